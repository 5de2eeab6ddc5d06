import Testing

@testable import Panels

@Suite struct LayoutTests {
    @Test func fixedAndFillShareTheWholeLength() {
        #expect(Layout.distribute(20, [.fixed(5), .fill(1), .fixed(3)]) == [5, 12, 3])
        #expect(Layout.distribute(20, [.fill(1), .fill(3)]) == [5, 15])
        #expect(Layout.distribute(10, [.percent(50), .fill(1)]) == [5, 5])
        #expect(Layout.distribute(7, [.fill(1), .fill(1)]).reduce(0, +) == 7)
    }

    @Test func overfullFixedPartsShrinkProportionally() {
        let d = Layout.distribute(10, [.fixed(10), .fixed(10)])
        #expect(d == [5, 5])
        #expect(Layout.distribute(0, [.fixed(3), .fill(1)]) == [0, 0])
        #expect(Layout.distribute(1, [.fixed(3), .fixed(3)]).reduce(0, +) == 1)
    }

    @Test func splitProducesAdjacentRects() {
        let r = Layout.split(Rect(x: 2, y: 1, width: 10, height: 4), .horizontal, [.fixed(3), .fill(1)])
        #expect(r == [Rect(x: 2, y: 1, width: 3, height: 4), Rect(x: 5, y: 1, width: 7, height: 4)])
        let v = Layout.split(Rect(x: 0, y: 0, width: 5, height: 5), .vertical, [.min(2), .fixed(1)])
        #expect(v.map(\.height) == [4, 1])
    }
}
