import TestSupport
import Testing

@Suite struct CheckCloseTests {
    @Test func reportsTheLargestDifferenceAndWhere() {
        let c = compare([1.0, 2.0, 3.5] as [Float], [1.0, 2.0, 3.0] as [Double])
        #expect(c.index == 2)
        #expect(abs(c.maxAbs - 0.5) < 1e-12)
        #expect(checkClose([1.0, 2.0] as [Float], [1.0, 2.0] as [Float], tol: 0, label: "x") == nil)
        #expect(checkClose([1.0] as [Float], [1.0, 2.0] as [Float], tol: 1, label: "x") != nil)
        #expect(checkClose([Float.nan], [1.0] as [Float], tol: 1e9, label: "x") != nil)
    }
}
