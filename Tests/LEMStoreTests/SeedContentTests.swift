import Foundation
import GRDB
import LEMCore
import StoreTestSupport
import TestSupport
import Testing

@testable import LEMStore

@Suite("Seed probes")
struct SeedContentTests {
    @Test("seeds/ holds P01–P100, ten per domain, and imports as the seeds benchmark")
    func seeds() throws {
        let db = try TempDatabase()
        let summary = try LEMImporter(store: db.store).importPaths([TestPaths.repoRoot.appendingPathComponent("seeds")])
        #expect(summary.items == 100)
        let rows = try db.store.pool.read {
            try Row.fetchAll($0, sql: "SELECT key, domain, prompt FROM item WHERE benchmark = 'seeds' ORDER BY key")
        }
        #expect(Set(rows.map { $0["key"] as String }) == Set((1...100).map { String(format: "P%02d", $0) }))
        var perDomain: [String: Int] = [:]
        for r in rows { perDomain[r["domain"], default: 0] += 1 }
        #expect(
            perDomain
                == Dictionary(
                    uniqueKeysWithValues: [
                        "identity", "network", "storage", "compute", "payment", "consciousness", "education",
                        "censorship",
                        "health", "labour"
                    ].map { ($0, 10) }))
        #expect(rows.allSatisfy { ($0["prompt"] as String).count > 40 })
    }
}
