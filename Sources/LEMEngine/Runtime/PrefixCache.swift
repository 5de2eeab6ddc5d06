import Foundation

/// Snapshots of computed prefixes (`KVSnapshot`), so a generation whose prompt starts with tokens
/// already run — the conversation so far, a kernel system prompt, a judge's rubric — computes only
/// the rest.
///
/// Entries belong to a `Scope`: one load of one model + adapter + scale (a reload, e.g. of an
/// adapter rewritten by training, gets a new scope, so stale state is never served). A lookup
/// compares the prompt with every entry of its scope, token by token, as llama.cpp's server does
/// with its slots: entries are few (each holds megabytes), so the scan costs microseconds beside the
/// milliseconds each skipped token saves. The entry restorable at the longest common prefix wins
/// (`KVSnapshot.canRestore`: a sliding layer whose ring has dropped what that length needs cannot
/// serve it, and the prefix is recomputed). Entries are bounded by bytes and dropped least recently
/// used first; an entry that a newer one extends and fully covers is dropped at once.
///
/// Thread-safe; snapshots are immutable and restored by copying.
public final class PrefixCache: @unchecked Sendable {
    /// The entries of one loaded model: its key plus a number unique to the load.
    public struct Scope: Hashable, Sendable {
        /// Model, adapter and scale.
        public let model: ModelKey
        let load: Int
    }

    /// What a lookup found.
    public struct Match: Sendable {
        /// The snapshot to restore, nil when no entry serves a non-empty prefix.
        public let snapshot: KVSnapshot?
        /// Positions to restore from `snapshot` (0 without one).
        public let length: Int
        /// The longest prefix (up to the lookup's limit) any entry of the scope shares with the
        /// tokens; more than `length` when a sliding layer kept an entry from serving all of it.
        public let shared: Int
    }

    /// Counters since creation.
    public struct Statistics: Sendable, Equatable {
        /// Lookups that restored a prefix.
        public var hits = 0
        /// Lookups that restored nothing.
        public var misses = 0
        /// Positions restored instead of computed.
        public var reusedTokens = 0
        /// Entries held now.
        public var entries = 0
        /// Bytes held now.
        public var bytes = 0
    }

    /// The most bytes of snapshots kept.
    public let capacityBytes: Int
    private let lock = NSLock()
    // Guarded by `lock`.
    private var entries: [(scope: Scope, snapshot: KVSnapshot)] = []  // least recently used first
    private var counters = Statistics()
    private static let loads = LoadCounter()

    /// A cache keeping up to `capacityBytes` of snapshots (0 keeps nothing).
    public init(capacityBytes: Int) {
        self.capacityBytes = max(0, capacityBytes)
    }

    /// A new scope for a fresh load of `model`.
    public static func scope(for model: ModelKey) -> Scope {
        Scope(model: model, load: loads.next())
    }

    /// The entry of `scope` restorable at the longest prefix of `tokens`, at most `limit`
    /// positions long (a generation keeps at least its last prompt token to compute, for logits).
    public func lookup(_ tokens: [Int], scope: Scope, limit: Int) -> Match {
        lock.lock()
        defer { lock.unlock() }
        var best: (index: Int, length: Int)?
        var shared = 0
        for (index, entry) in entries.enumerated() where entry.scope == scope {
            let common = Self.commonPrefix(entry.snapshot.tokens, tokens, limit: limit)
            shared = max(shared, common)
            guard common > 0, entry.snapshot.canRestore(length: common) else { continue }
            // Later entries are more recently used: prefer them on a tie.
            if common >= best?.length ?? 1 { best = (index, common) }
        }
        guard let best else {
            counters.misses += 1
            return Match(snapshot: nil, length: 0, shared: shared)
        }
        let entry = entries.remove(at: best.index)
        entries.append(entry)
        counters.hits += 1
        counters.reusedTokens += best.length
        return Match(snapshot: entry.snapshot, length: best.length, shared: shared)
    }

    /// Keeps `snapshot` for `scope`, dropping the entries it covers, then the least recently used
    /// until the total fits; a snapshot larger than the whole capacity is not kept.
    public func insert(_ snapshot: KVSnapshot, scope: Scope) {
        guard snapshot.count > 0, snapshot.bytes <= capacityBytes else { return }
        lock.lock()
        defer { lock.unlock() }
        entries.removeAll { $0.scope == scope && $0.snapshot.isCovered(by: snapshot) }
        // An entry that covers the new one makes it redundant.
        if entries.contains(where: { $0.scope == scope && snapshot.isCovered(by: $0.snapshot) }) { return }
        entries.append((scope, snapshot))
        var total = entries.reduce(0) { $0 + $1.snapshot.bytes }
        while total > capacityBytes, !entries.isEmpty {
            total -= entries.removeFirst().snapshot.bytes
        }
    }

    /// Drops every entry of `model` (any load), e.g. when the model pool lets it go.
    public func remove(model: ModelKey) {
        lock.lock()
        entries.removeAll { $0.scope.model == model }
        lock.unlock()
    }

    /// Drops every entry.
    public func removeAll() {
        lock.lock()
        entries.removeAll()
        lock.unlock()
    }

    /// The counters, with the entries and bytes held now.
    public var statistics: Statistics {
        lock.lock()
        defer { lock.unlock() }
        var s = counters
        s.entries = entries.count
        s.bytes = entries.reduce(0) { $0 + $1.snapshot.bytes }
        return s
    }

    /// The token lists held for `scope`, least recently used first (tests, inspection).
    public func tokens(scope: Scope) -> [[Int]] {
        lock.lock()
        defer { lock.unlock() }
        return entries.filter { $0.scope == scope }.map(\.snapshot.tokens)
    }

    static func commonPrefix(_ a: [Int], _ b: [Int], limit: Int) -> Int {
        let n = min(a.count, b.count, limit)
        var i = 0
        while i < n, a[i] == b[i] { i += 1 }
        return i
    }
}

/// Numbers handed out once each.
private final class LoadCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
