import Foundation
import LEMCore
import TestSupport
import Testing

@testable import LEMScoring

@Suite("EthicsKernel")
struct EthicsKernelTests {
    let kernel = EthicsKernel(
        text: "K",
        axioms: [
            .init(id: 1, key: "a", name: "A", statement: "s1.", guidance: "g1."),
            .init(id: 2, key: "b", name: "B", statement: "s2.", guidance: "g2.")
        ])

    @Test("the three modes build the documented messages")
    func modes() {
        #expect(kernel.messages(for: "P", mode: .none) == [ChatMessage.user("P")])
        #expect(
            kernel.messages(for: "P", mode: .system) == [
                ChatMessage.system("K"), ChatMessage.user("P")
            ])
        #expect(
            kernel.messages(for: "P", mode: .sandwich) == [
                ChatMessage.user("Axioms:\n1. A: s1. g1.\n2. B: s2. g2.\n\nP\n\nK")
            ])
    }

    @Test("the repository's kernel has the five axioms in order")
    func repositoryKernel() throws {
        let k = try EthicsKernel.load(directory: TestPaths.repoRoot.appendingPathComponent("kernel"))
        #expect(
            k.axioms.map(\.key) == [
                "prime_imperative", "self_validation", "intent_driven_alignment",
                "inter_substrate_respect", "benevolent_intervention"
            ])
        #expect(k.axioms.map(\.id) == [1, 2, 3, 4, 5])
        #expect(k.text.hasPrefix("# LEM Workbench ethics kernel"))
        let sandwich = k.messages(for: "PROMPT", mode: .sandwich)[0].content
        let p = try #require(sandwich.range(of: "PROMPT"))
        #expect(sandwich[..<p.lowerBound].contains("Inter-substrate respect"))
        #expect(sandwich[p.upperBound...].contains("ethics kernel"))
    }
}
