/// The tokenizer's streaming detokenizer is the generator's text decoder.
extension StreamingDetokenizer: StreamingTextDecoder {}
