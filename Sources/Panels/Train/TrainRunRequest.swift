/// What the Train panel's form asks for: a YAML config, the values the user typed, and the
/// form's defaults.
///
/// Keys are mlx_lm config keys (`model`, `data`, `iters`, `learning_rate`, `lora_rank`,
/// `num_layers`, `batch_size`, `max_seq_length`, `steps_per_report`, `steps_per_eval`,
/// `save_every`, `adapter_path`) with the text shown. Precedence: typed `values`, then the
/// YAML file, then `defaults` (which fill in only what the file leaves out). LEMApp validates them.
public struct TrainRunRequest: Hashable, Sendable {
    public var configPath: String?
    /// Values the user typed or picked: they win over the YAML file.
    public var values: [String: String]
    /// Values the form showed without the user touching them: used where the file says nothing.
    public var defaults: [String: String]

    /// Creates a request.
    public init(configPath: String? = nil, values: [String: String] = [:], defaults: [String: String] = [:]) {
        self.configPath = configPath
        self.values = values
        self.defaults = defaults
    }
}
