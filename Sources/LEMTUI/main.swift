// The `lem` executable: the one place that reads the process environment. It becomes an
// `AppContext` (paths, the environment for API keys and terminal settings) and the engine's
// options, passed down as values to the command line.
import Foundation
import LEMApp
import LEMCLI
import LEMCore
import LEMEngine

let environment = ProcessInfo.processInfo.environment
// The library default is the exact f32 path (the reference tests hold it to transformers); the
// program defaults to llama.cpp's 8-bit activations unless LEM_Q8_ACTIVATIONS says otherwise.
if environment["LEM_Q8_ACTIVATIONS"] == nil { Kernels.setQ8Activations(true) }
let paths = LEMPaths(
    environment: environment, currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
let context = AppContext(paths: paths, environment: environment)
await LEMCommandLine.main(arguments: Array(CommandLine.arguments.dropFirst()), context: context)
