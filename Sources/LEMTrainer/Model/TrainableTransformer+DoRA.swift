import LEMEngine

// DoRA in the naive oracle, the same steps as LoRATransformer+DoRA.swift with the plain
// kernels of Kernels+DoRA.swift in `T`: out = (m / n) ⊙ (x Wᵀ + s·(x A) B) + bias with the row
// norms n = ‖W + s·(A B)ᵀ‖ held constant. Legend: n tokens, O outputs.

extension TrainableTransformer {
    /// The magnitude (in `T`) and current row norms of every DoRA layer of `adapter`.
    func doraStates(_ adapter: LoRAAdapter) -> [String: DoRAState<T>] {
        var states: [String: DoRAState<T>] = [:]
        let scale = T(adapter.parameters.scale)
        for w in adapter.weights {
            guard let m = w.magnitude, layers.indices.contains(w.layer), let linear = layers[w.layer].linears[w.module]
            else { continue }
            let a = w.a.map { T($0) }, b = w.b.map { T($0) }
            var norms = [T](repeating: 0, count: w.outputs)  // (O)
            Kernels.doraRowNorms(weight: linear.weight, loraA: a, loraB: b, scale: scale, inputs: w.inputs, outputs: w.outputs,
                                 rank: w.rank, into: &norms)
            states[w.modulePath] = DoRAState(magnitude: m.map { T($0) }, norms: norms)
        }
        return states
    }

    /// Turns `y` (the LoRA output with the bias) into `(m / n) ⊙ y0 + bias`, recording y0.
    func doraForward(_ y: inout [T],  // (n, O)
                     state: DoRAState<T>, bias: [T]?, module: String, record: inout BlockRecord) {
        let o = state.outputs, rows = y.count / o
        var y0 = y  // (n, O)
        if let bias {
            for r in 0 ..< rows { for c in 0 ..< o { y0[r * o + c] -= bias[c] } }
        }
        bias.withOptionalPointer { bias in
            Kernels.doraRescale(y0, magnitude: state.magnitude, norms: state.norms, bias: bias, rows: rows, outputs: o, into: &y)
        }
        record.doraOutputs[module] = y0
    }

    /// The gradient of y0 from that of the DoRA output, adding `dm`; `dOut` unchanged for LoRA.
    func doraBackward(_ dOut: [T],  // (n, O)
                      path: String, module: String, view: AdapterView, record: BlockRecord,
                      gradients: inout [String: LoRAGradient<T>]) -> [T] {
        guard let state = view.dora[path], let y0 = record.doraOutputs[module], var g = gradients[path] else { return dOut }
        gradients[path] = nil
        let o = state.outputs
        var dY0 = [T](repeating: 0, count: dOut.count)  // (n, O)
        var dm = g.m ?? [T](repeating: 0, count: o)  // (O)
        Kernels.doraRescaleBackward(dOut, y0: y0, magnitude: state.magnitude, norms: state.norms, rows: dOut.count / o,
                                    outputs: o, dY0: &dY0, dMagnitude: &dm)
        g.m = dm
        gradients[path] = g
        return dY0
    }

    /// DoRA's initial magnitude: the base weight's row norms (summed in Float64). // (O)
    public func baseRowNorms(layer: Int, module: String) throws -> [Float] {
        guard layers.indices.contains(layer), let linear = layers[layer].linears[module] else {
            throw TrainingConfigError.invalid(key: "lora_parameters.keys", reason: "no linear layer 'model.layers.\(layer).\(module)'")
        }
        return (0 ..< linear.outputs).map { o in
            var sum = 0.0
            for i in 0 ..< linear.inputs { let v = Double(linear.weight[o * linear.inputs + i]); sum += v * v }
            return Float(sum.squareRoot())
        }
    }
}
