import Foundation
import LEMCore
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    @Test("integers and fractions stay apart; objects keep file order")
    func kinds() throws {
        let v = try JSONValue.parse(#"{"b": 4096, "a": 1e-06, "c": 3.0, "d": [true, null, "x"], "e": -7}"#)
        #expect(v["b"] == .int(4096))
        #expect(v["a"] == .double(1e-06))
        #expect(v["c"] == .double(3))
        #expect(v["c"]?.int == 3)
        #expect(v["e"]?.int == -7)
        #expect(v["d"]?.array == [.bool(true), .null, .string("x")])
        #expect(v.object?.keys == ["b", "a", "c", "d", "e"])
    }

    @Test("keys compare byte for byte: canonically equal keys stay distinct")
    func byteExactKeys() throws {
        let v = try JSONValue.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        let o = try #require(v.object)
        #expect(o.count == 2)
        #expect(o["\u{E9}"] == .int(1))
        #expect(o["e\u{301}"] == .int(2))
    }

    @Test("escapes, surrogate pairs and a lone high surrogate")
    func escapes() throws {
        #expect(try JSONValue.parse(#""a\nb\t\"\\\/""#) == .string("a\nb\t\"\\/"))
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        // A high surrogate followed by an escape that is not a low surrogate: both kept, no crash.
        #expect(try JSONValue.parse(#""\ud83d\u0041""#) == .string("\u{FFFD}A"))
    }

    @Test("syntax errors name the byte offset; nesting is bounded")
    func errors() throws {
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\": }") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[1, 2") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("\"\\u12\"") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[1] x") }
        let deep =
            String(repeating: "[", count: JSONParser.maxDepth + 1)
            + String(repeating: "]", count: JSONParser.maxDepth + 1)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let ok = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        #expect(throws: Never.self) { try JSONValue.parse(ok) }
        do {
            _ = try JSONValue.parse("{\"a\": tru}")
            Issue.record("expected an error")
        } catch let e as JSONParseError {
            #expect(e.offset == 6)
        }
    }

    @Test("writing: sorted or ordered keys, integral doubles as integers, non-finite as null, Python-style escapes")
    func writing() throws {
        let v = JSONValue.object(
            JSONObject(members: [
                ("z", .double(2.0)), ("a", .double(0.25)), ("m", .double(.nan)), ("s", .string("q\"\u{1}é"))
            ]))
        #expect(v.jsonText() == #"{"a":0.25,"m":null,"s":"q\"\u0001é","z":2}"#)
        #expect(v.jsonText(sortedKeys: false) == #"{"z":2,"a":0.25,"m":null,"s":"q\"\u0001é"}"#)
        #expect(JSONValue.array([.int(1), .object(JSONObject())]).jsonText(pretty: true) == "[\n  1,\n  {}\n]")
        let round = try JSONValue.parse(#"{"k": [1, 2.5, "x", false, null, {"n": -3}]}"#)
        #expect(try JSONValue.parse(round.jsonText()) == round)
    }

    @Test("objects are equal whatever their member order; setting a member replaces it in place")
    func objectEquality() {
        var a: JSONObject = ["x": .int(1), "y": .int(2)]
        let b: JSONObject = ["y": .int(2), "x": .int(1)]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        a["x"] = .int(5)
        #expect(a.keys == ["x", "y"] && a["x"] == .int(5))
        a["x"] = nil
        #expect(a.keys == ["y"])
    }

    @Test("skipped members are returned as byte ranges")
    func skipping() throws {
        let text = #"{"model": {"vocab": {"a": 0, "b": [1, "}"]}, "type": "BPE"}}"#
        let data = Data(text.utf8)
        let (value, skipped) = try JSONValue.parse(data, skipping: ["model.vocab"])
        #expect(value["model"]?["vocab"] == .null)
        #expect(value["model"]?["type"] == .string("BPE"))
        let range = try #require(skipped["model.vocab"])
        #expect(String(decoding: data[range], as: UTF8.self) == #"{"a": 0, "b": [1, "}"]}"#)
    }
}
