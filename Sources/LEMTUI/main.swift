// The `lem` executable: the one place that reads the process environment. It becomes an
// `AppContext` (paths, the environment for API keys and terminal settings) and the engine's
// options, passed down as values to the command line.
import Foundation
import LEMApp
import LEMCLI
import LEMCore
import LEMEngine

let environment = ProcessInfo.processInfo.environment
// OpenBLAS picked its core when it loaded; when that is below what this CPU runs (an OpenBLAS older
// than the CPU), start again with the right one forced — it is read only at load.
if let relaunch = BLASCore.relaunchEnvironment(environment) { ProcessRelaunch.exec(environment: relaunch) }
let options: EngineOptions
do {
    // The program's default is llama.cpp's 8-bit activations unless LEM_Q8_ACTIVATIONS=0; a value
    // it cannot read stops here with a message naming the variable.
    options = try EngineOptions(environment: environment)
} catch {
    FileHandle.standardError.write(Data("lem: \(error)\n".utf8))
    exit(64)  // EX_USAGE, as for a bad argument
}
EngineThreads.apply(options)
let paths = LEMPaths(
    environment: environment, currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
let context = AppContext(paths: paths, environment: environment, engineOptions: options)
await LEMCommandLine.main(arguments: Array(CommandLine.arguments.dropFirst()), context: context)
