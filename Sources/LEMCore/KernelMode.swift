/// How the LEK ethics kernel is placed around a prompt.
public enum KernelMode: String, CaseIterable, Hashable, Sendable, Codable {
    /// No kernel: the prompt as it is.
    case none
    /// The kernel as the system prompt.
    case system
    /// The kernel before and the axioms after the user's message, in one user turn.
    case sandwich

    /// The next mode in the cycle none → system → sandwich → none.
    public var next: KernelMode {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}
