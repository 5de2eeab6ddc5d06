/// What `body` threw, as the tests read it: the error's description, or `no error` when it
/// returned (its result is dropped).
///
/// Error tests compare whole messages: a bad input must name the file, the place and what was
/// expected.
public func errorMessage<T>(_ body: () throws -> T) -> String {
    do {
        _ = try body()
        return "no error"
    } catch {
        return "\(error)"
    }
}
