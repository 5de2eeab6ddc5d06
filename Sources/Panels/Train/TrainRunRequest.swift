/// What the Train panel's form asks for: a YAML config and/or the form's values.
///
/// Values are mlx_lm config keys (`model`, `data`, `iters`, `learning_rate`, `lora_rank`,
/// `num_layers`, `batch_size`, `max_seq_length`, `adapter_path`) with the text typed; blank
/// values are left to the YAML file or the defaults. LEMTUI validates them.
public struct TrainRunRequest: Hashable, Sendable {
    public var configPath: String?
    public var values: [String: String]

    /// Creates a request.
    public init(configPath: String? = nil, values: [String: String] = [:]) {
        self.configPath = configPath
        self.values = values
    }
}
