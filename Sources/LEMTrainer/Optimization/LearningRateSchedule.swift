import Foundation

/// A learning rate as a function of the optimizer step, with mlx.optimizers' schedule formulas
/// and mlx_lm's `lr_schedule` config (`name`, `arguments`, `warmup`, `warmup_init`).
///
/// The rate used by update number `k` (1-based) is `value(at: k − 1)`: mlx evaluates the
/// schedule at the step counter before incrementing it, and mlx_lm reports that same value.
public indirect enum LearningRateSchedule: Sendable, Equatable {
    /// A fixed rate (mlx_lm without `lr_schedule`: `learning_rate`).
    case constant(Double)
    /// `end + ½(1 + cos(π·min(step, decaySteps)/decaySteps))·(initial − end)`.
    case cosineDecay(initial: Double, decaySteps: Int, end: Double)
    /// `initial + min(step, steps)·(end − initial)/steps`.
    case linear(initial: Double, end: Double, steps: Int)
    /// `initial · rate^step`.
    case exponentialDecay(initial: Double, rate: Double)
    /// `initial · rate^(step / stepSize)` (integer division).
    case stepDecay(initial: Double, rate: Double, stepSize: Int)
    /// `first` before `boundary`, then `then` evaluated at `step − boundary` (mlx `join_schedules`).
    case joined(first: LearningRateSchedule, boundary: Int, then: LearningRateSchedule)

    /// The learning rate at optimizer step `step` (0-based).
    public func value(at step: Int) -> Double {
        switch self {
        case .constant(let rate):
            return rate
        case .cosineDecay(let initial, let decaySteps, let end):
            let s = Double(min(step, decaySteps))
            return end + 0.5 * (1 + cos(Double.pi / Double(decaySteps) * s)) * (initial - end)
        case .linear(let initial, let end, let steps):
            return Double(min(step, steps)) * ((end - initial) / Double(steps)) + initial
        case .exponentialDecay(let initial, let rate):
            return initial * pow(rate, Double(step))
        case .stepDecay(let initial, let rate, let stepSize):
            return initial * pow(rate, Double(step / stepSize))
        case .joined(let first, let boundary, let then):
            return step < boundary ? first.value(at: step) : then.value(at: step - boundary)
        }
    }

    /// Builds mlx_lm's schedule: `name` is an mlx scheduler (`cosine_decay`, `linear_schedule`,
    /// `exponential_decay`, `step_decay`) called with `arguments`; a non-zero `warmup` prepends a
    /// linear ramp from `warmupInit` to `arguments[0]` over `warmup` steps, joined at
    /// `warmup + 1` exactly as mlx_lm's `build_schedule` does.
    ///
    /// Throws `TrainingConfigError` naming what is wrong with the arguments.
    public static func mlxLM(name: String, arguments: [Double], warmup: Int = 0, warmupInit: Double = 0) throws -> Self
    {
        func argument(_ i: Int, _ what: String, default value: Double? = nil) throws -> Double {
            if i < arguments.count { return arguments[i] }
            if let value { return value }
            throw TrainingConfigError.invalid(
                key: "lr_schedule.arguments", reason: "\(name) needs \(what) as argument \(i + 1)")
        }
        func positiveInt(_ i: Int, _ what: String) throws -> Int {
            let x = try argument(i, what)
            // Int(exactly:) is nil past Int's range (a fuzzed 1e21 trapped in Int(_:)).
            guard x >= 1, x == x.rounded(), x <= Double(1 << 52), let whole = Int(exactly: x) else {
                throw TrainingConfigError.invalid(
                    key: "lr_schedule.arguments", reason: "\(what) must be a whole number from 1 to 2^52, got \(x)")
            }
            return whole
        }
        let schedule: Self
        switch name {
        case "cosine_decay":
            guard arguments.count <= 3 else { throw tooMany(name, 3) }
            schedule = .cosineDecay(
                initial: try argument(0, "init"), decaySteps: try positiveInt(1, "decay_steps"),
                end: try argument(2, "end", default: 0))
        case "linear_schedule":
            guard arguments.count <= 3 else { throw tooMany(name, 3) }
            schedule = .linear(
                initial: try argument(0, "init"), end: try argument(1, "end"), steps: try positiveInt(2, "steps"))
        case "exponential_decay":
            guard arguments.count <= 2 else { throw tooMany(name, 2) }
            schedule = .exponentialDecay(initial: try argument(0, "init"), rate: try argument(1, "decay_rate"))
        case "step_decay":
            guard arguments.count <= 3 else { throw tooMany(name, 3) }
            schedule = .stepDecay(
                initial: try argument(0, "init"), rate: try argument(1, "decay_rate"),
                stepSize: try positiveInt(2, "step_size"))
        default:
            throw TrainingConfigError.invalid(
                key: "lr_schedule.name",
                reason:
                    "unknown schedule '\(name)'; expected cosine_decay, linear_schedule, exponential_decay or step_decay"
            )
        }
        guard warmup >= 0, warmup <= 1 << 52 else {
            throw TrainingConfigError.invalid(
                key: "lr_schedule.warmup", reason: "must be a whole number from 0 to 2^52, got \(warmup)")
        }
        guard warmup > 0 else { return schedule }
        let ramp = LearningRateSchedule.linear(initial: warmupInit, end: arguments[0], steps: warmup)
        return .joined(first: ramp, boundary: warmup + 1, then: schedule)
    }

    private static func tooMany(_ name: String, _ limit: Int) -> TrainingConfigError {
        .invalid(key: "lr_schedule.arguments", reason: "\(name) takes at most \(limit) arguments")
    }
}
