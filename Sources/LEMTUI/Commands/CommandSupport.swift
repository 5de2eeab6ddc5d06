import Foundation

/// Prints a line to standard error; shared by every subcommand group.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
