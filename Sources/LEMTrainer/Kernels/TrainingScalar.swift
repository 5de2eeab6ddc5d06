import Foundation

/// A floating-point type the training kernels run in: `Float` for training, `Double` for the
/// finite-difference gradient checks that validate every backward kernel.
///
/// `BinaryFloatingPoint` has no transcendental functions, so this protocol adds the few the
/// kernels need, each forwarding to the C library's precision-matched routine.
public protocol TrainingScalar: BinaryFloatingPoint, Sendable {
    /// e^x.
    static func exponential(_ x: Self) -> Self
    /// The natural logarithm.
    static func logarithm(_ x: Self) -> Self
    /// The hyperbolic tangent.
    static func hyperbolicTangent(_ x: Self) -> Self
}

extension Float: TrainingScalar {
    /// e^x in single precision.
    @inlinable public static func exponential(_ x: Float) -> Float { expFloat(x) }
    /// ln x in single precision.
    @inlinable public static func logarithm(_ x: Float) -> Float { logFloat(x) }
    /// tanh x in single precision.
    @inlinable public static func hyperbolicTangent(_ x: Float) -> Float { tanhFloat(x) }
}

extension Double: TrainingScalar {
    /// e^x in double precision.
    @inlinable public static func exponential(_ x: Double) -> Double { expDouble(x) }
    /// ln x in double precision.
    @inlinable public static func logarithm(_ x: Double) -> Double { logDouble(x) }
    /// tanh x in double precision.
    @inlinable public static func hyperbolicTangent(_ x: Double) -> Double { tanhDouble(x) }
}

extension TrainingScalar {
    /// `values` in this type: the same array for Float, converted element by element otherwise.
    static func converting(_ values: [Float]) -> [Self] {
        values as? [Self] ?? values.map { Self($0) }
    }
}

// Free functions so the static members above do not shadow the C library names.
@usableFromInline func expFloat(_ x: Float) -> Float { exp(x) }
@usableFromInline func logFloat(_ x: Float) -> Float { log(x) }
@usableFromInline func tanhFloat(_ x: Float) -> Float { tanh(x) }
@usableFromInline func expDouble(_ x: Double) -> Double { exp(x) }
@usableFromInline func logDouble(_ x: Double) -> Double { log(x) }
@usableFromInline func tanhDouble(_ x: Double) -> Double { tanh(x) }
