import Foundation

/// A shell script standing in for `mlx_lm` in the `--backend mlx_lm` tests, so they run where
/// mlx_lm is not installed.
public enum FakeMLXLM {
    /// Writes `<dir>/mlx_lm`: it checks it was called as `mlx_lm lora -c FILE`, copies FILE to
    /// `<adapter_path>/seen-config.yaml`, prints the first `lines` lines of real mlx_lm 0.32.2
    /// output (`Tests/Fixtures/trainer/mlx_lm_output`) and a line on stderr, then either writes a
    /// real adapter to `<adapter_path>/adapters.safetensors` or, with a non-zero `status`, prints
    /// `ValueError: boom` on stderr and exits with it. With `hold` > 0 it then waits that many
    /// seconds instead (`exec sleep`, so a signal to it closes its output at once).
    public static func script(in dir: URL, lines: Int = 1000, status: Int = 0, hold: Int = 0) throws -> URL {
        let output = TestPaths.fixture("trainer/mlx_lm_output/mlx_lm-0.32.2.txt").path
        let adapter = TestPaths.fixture("trainer/mlx_adapter/adapters.safetensors").path
        let script = """
            #!/bin/sh
            [ "$1" = lora ] && [ "$2" = -c ] || { echo "unexpected arguments: $*" >&2; exit 2; }
            adapters=$(sed -n 's/^adapter_path: "\\(.*\\)"$/\\1/p' "$3")
            mkdir -p "$adapters"
            cp "$3" "$adapters/seen-config.yaml"
            head -n \(lines) '\(output)'
            echo "fake warning on stderr" >&2
            if [ \(hold) -gt 0 ]; then exec sleep \(hold); fi
            if [ \(status) -ne 0 ]; then echo "ValueError: boom" >&2; exit \(status); fi
            cp '\(adapter)' "$adapters/adapters.safetensors"

            """
        let url = dir.appendingPathComponent("mlx_lm")
        try Data(script.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }
}
