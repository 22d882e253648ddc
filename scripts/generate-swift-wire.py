#!/usr/bin/python3
"""Generates the Swift side of the wire contract from proto/.

protoc-c compiles every .proto into one descriptor set (with source info); this script reads
that set (never the .proto text) and writes:

- Shared/HSBWire/Generated/<Package>.swift for every package: Swift value types for its
  messages (nested messages, oneofs and maps included) and open enums, their conversion to and
  from the protobuf-c structs, and for each `service` a method descriptor table.
- Shared/HSBContract/Generated/<Package>Services.swift for every package with a `service`: a
  typed server protocol (one requirement per `rpc`, request and reply types, the proven caller)
  and a typed client.

Trailing comments carry directives, separated by commas; anything else in them is prose:
- `required` on a field: decoding refuses a message without it (a non-empty string, bytes,
  repeated field or map, a present message, a non-zero enum or number), naming every missing one.
- `range LO..HI` on a number field: decoding refuses a value outside the bounds, naming the field.
- `swift: Name` on a message, enum, enum value or field: the Swift name (default: the proto name
  for types, lowerCamelCase for fields and values).
- `anyone` on an rpc: the method is open to callers without a credential (health checks), so its
  handler gets the request context without a proven caller.

The packages in SHARED are the suite's common vocabulary: their types are top-level Swift types
(`Agency`, `CalendarDate`), the others are namespaced (`IntakeV1.Referral`).

Usage: scripts/generate-swift-wire.py [--check]
       scripts/generate-swift-wire.py --fixture NAME --proto-root DIR --out DIR --c-module MODULE --c-prefix PREFIX [--check]
The second form writes a test fixture: another contract (a previous or a next release) whose C
symbols carry PREFIX, as a Swift module of its own beside HSBWire (types and method tables only).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO = os.path.join(ROOT, "proto")
WIRE_OUT = os.path.join(ROOT, "Shared", "HSBWire", "Generated")
CONTRACT_OUT = os.path.join(ROOT, "Shared", "HSBContract", "Generated")
# Packages whose types are top-level Swift types.
SHARED = {"hsb.common.v1", "hsb.rpc.v1", "hsb.health.v1"}
# Packages whose messages are also Codable: the orchestrator keeps them in its stored case state.
CODABLE = {"hsb.common.v1"}

FD = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    FD.TYPE_STRING: ("String", '""'),
    FD.TYPE_BYTES: ("[UInt8]", "[]"),
    FD.TYPE_BOOL: ("Bool", "false"),
    FD.TYPE_INT32: ("Int32", "0"),
    FD.TYPE_INT64: ("Int64", "0"),
    FD.TYPE_UINT32: ("UInt32", "0"),
    FD.TYPE_UINT64: ("UInt64", "0"),
    FD.TYPE_SINT32: ("Int32", "0"),
    FD.TYPE_SINT64: ("Int64", "0"),
    FD.TYPE_FIXED32: ("UInt32", "0"),
    FD.TYPE_FIXED64: ("UInt64", "0"),
    FD.TYPE_SFIXED32: ("Int32", "0"),
    FD.TYPE_SFIXED64: ("Int64", "0"),
    FD.TYPE_DOUBLE: ("Double", "0"),
    FD.TYPE_FLOAT: ("Float", "0"),
}
KEYWORDS = {
    "internal", "public", "private", "default", "case", "class", "struct", "enum", "protocol", "func", "var", "let",
    "import", "in", "is", "as", "self", "Self", "init", "deinit", "extension", "return", "throw", "throws", "try", "true",
    "false", "nil", "operator", "repeat", "while", "for", "if", "else", "switch", "where", "static", "subscript", "typealias",
    "fileprivate", "guard", "defer", "do", "catch", "break", "continue", "fallthrough", "inout", "super", "Any", "Type",
}


def ident(name):
    return f"`{name}`" if name in KEYWORDS else name


def camel(name, upper=False):
    parts = name.split("_")
    text = parts[0].lower() + "".join(p[:1].upper() + p[1:].lower() for p in parts[1:])
    return text[:1].upper() + text[1:] if upper else text


def method_camel(name):
    return name[:1].lower() + name[1:]


def c_snake(name):
    """protobuf-c's lower-case form of a CamelCase name: an underscore before each run of capitals."""
    out = ""
    was_upper = True
    for ch in name:
        if ch.isupper():
            if not was_upper:
                out += "_"
            out += ch.lower()
            was_upper = True
        else:
            out += ch
            was_upper = False
    return out


def enum_prefix(name):
    """The conventional prefix of an enum's values: AIMAction -> AIM_ACTION_."""
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", spaced).upper() + "_"


def namespace(package):
    # hsb.intake.v1 -> IntakeV1
    parts = package.split(".")[1:]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def directives(comment):
    """The directives of a trailing comment: {'required': True, 'range': (lo, hi), 'swift': name, 'anyone': True}."""
    found = {}
    for token in (t.strip() for t in comment.replace("\n", " ").split(",")):
        if token == "required" or token.startswith("required "):
            found["required"] = True
        elif token == "anyone":
            found["anyone"] = True
        m = re.match(r"range (-?\d+)\.\.(-?\d+)$", token)
        if m:
            found["range"] = (int(m.group(1)), int(m.group(2)))
        m = re.match(r"swift:?\s+(\w+)$", token)
        if m:
            found["swift"] = m.group(1)
    return found


class Comments:
    """Leading and trailing comments of one file, by descriptor path."""

    def __init__(self, file):
        self.by_path = {tuple(loc.path): loc for loc in file.source_code_info.location}

    def doc(self, path):
        loc = self.by_path.get(tuple(path))
        if not loc or not loc.leading_comments:
            return []
        return [line.strip() for line in loc.leading_comments.rstrip("\n").split("\n")]

    def directives(self, path):
        loc = self.by_path.get(tuple(path))
        return directives(loc.trailing_comments) if loc else {}


class Options:
    """Where the generated code goes and what it links against (the contract, or a test fixture)."""
    c_module = "HSBProtoC"
    c_prefix = ""
    fixture = None


OPTIONS = Options()


def c_names(package):
    """protobuf-c's CamelCase and lower-case prefixes of a package, with the fixture's symbol prefix."""
    cpre = "__".join(p.capitalize() for p in package.split("."))
    lpre = package.replace(".", "__").lower()
    if OPTIONS.c_prefix:
        cpre = f"{OPTIONS.c_prefix.capitalize()}__{cpre}"
        lpre = f"{OPTIONS.c_prefix}__{lpre}"
    return cpre, lpre


class Schema:
    """Every message and enum of the descriptor set, by full name, with its Swift and C names."""

    def __init__(self, files):
        self.types = {}
        self.files = files
        for file in files:
            comments = Comments(file)
            ns = None if file.package in SHARED and not OPTIONS.fixture else namespace(file.package)
            cpre, lpre = c_names(file.package)
            for index, message in enumerate(file.message_type):
                self._message(file, comments, message, [4, index], ns, cpre, lpre, file.package)
            for index, enum in enumerate(file.enum_type):
                self._enum(file, comments, enum, [5, index], ns, cpre, file.package)

    def _swift(self, parent_swift, name, comments, path):
        swift = comments.directives(path).get("swift", name)
        return f"{parent_swift}.{swift}" if parent_swift else swift, swift

    def _message(self, file, comments, message, path, parent_swift, cpre, lpre, parent_full):
        full = f"{parent_full}.{message.name}"
        swift, short = self._swift(parent_swift, message.name, comments, path)
        entry = {
            "kind": "message", "full": full, "swift": swift, "short": short, "desc": message, "path": path, "file": file,
            "comments": comments, "ctype": f"{cpre}__{message.name}", "cfn": f"{lpre}__{c_snake(message.name)}",
            "nested": parent_swift is not None and parent_full != file.package,
            "map_entry": message.options.map_entry,
        }
        self.types[full] = entry
        for index, nested in enumerate(message.nested_type):
            self._message(file, comments, nested, path + [3, index], swift, entry["ctype"], entry["cfn"], full)
        for index, enum in enumerate(message.enum_type):
            self._enum(file, comments, enum, path + [4, index], swift, entry["ctype"], full)

    def _enum(self, file, comments, enum, path, parent_swift, cpre, parent_full):
        full = f"{parent_full}.{enum.name}"
        swift, short = self._swift(parent_swift, enum.name, comments, path)
        prefix = enum_prefix(enum.name)
        cases = []
        for index, value in enumerate(enum.value):
            named = comments.directives(path + [2, index]).get("swift")
            stripped = value.name[len(prefix):] if value.name.startswith(prefix) else value.name
            cases.append((named or camel(stripped), value.number, comments.doc(path + [2, index])))
        self.types[full] = {
            "kind": "enum", "full": full, "swift": swift, "short": short, "desc": enum, "path": path, "file": file,
            "comments": comments, "ctype": f"{cpre}__{enum.name}", "cases": cases,
        }

    def get(self, type_name):
        return self.types[type_name.lstrip(".")]


class Writer:
    def __init__(self):
        self.lines = []

    def __call__(self, line=""):
        self.lines.append(line)

    def doc(self, lines, indent=""):
        for line in lines:
            self(f"{indent}/// {line}".rstrip())

    def text(self):
        return "\n".join(self.lines) + "\n"


def field_info(schema, message_entry, index, field):
    """How one field looks in Swift and C."""
    comments = message_entry["comments"]
    path = message_entry["path"] + [2, index]
    marks = comments.directives(path)
    info = {
        "field": field, "name": field.name, "prop": ident(marks.get("swift", camel(field.name))),
        "plain": marks.get("swift", camel(field.name)), "doc": comments.doc(path), "required": marks.get("required", False),
        "range": marks.get("range"), "repeated": field.label == FD.LABEL_REPEATED, "oneof": None,
    }
    if field.HasField("oneof_index") and not field.proto3_optional:
        info["oneof"] = field.oneof_index
    if field.type in SCALARS:
        info["kind"] = "scalar"
        info["swift"], info["default"] = SCALARS[field.type]
    elif field.type == FD.TYPE_ENUM:
        target = schema.get(field.type_name)
        info["kind"] = "enum"
        info["target"] = target
        info["swift"] = target["swift"]
        zero = next((case for case, number, _ in target["cases"] if number == 0), None)
        if zero is None:
            raise SystemExit(f"{target['full']}: a proto3 enum needs a zero value")
        info["default"] = f".{ident(zero)}"
    elif field.type == FD.TYPE_MESSAGE:
        target = schema.get(field.type_name)
        info["target"] = target
        if target["map_entry"]:
            info["kind"] = "map"
            key = field_info(schema, target, 0, target["desc"].field[0])
            value = field_info(schema, target, 1, target["desc"].field[1])
            info["key"], info["value"] = key, value
            info["swift"] = f"[{key['swift']}: {value['swift']}]"
            info["default"] = "[:]"
        else:
            info["kind"] = "message"
            info["swift"] = target["swift"]
            info["default"] = "nil"
    else:
        raise SystemExit(f"{message_entry['full']}.{field.name}: type {field.type} is not supported")
    return info


def swift_type(info):
    if info["kind"] == "map":
        return info["swift"]
    if info["repeated"]:
        return f"[{info['swift']}]"
    if info["kind"] == "message":
        return f"{info['swift']}?"
    return info["swift"]


def swift_default(info):
    if info["kind"] != "map" and info["repeated"]:
        return "[]"
    return info["default"]


def emit_enum(w, entry, indent):
    w.doc(entry["comments"].doc(entry["path"]), indent)
    conformances = "OpenEnum"
    w(f"{indent}public enum {ident(entry['short'])}: {conformances} {{")
    for case, _, doc in entry["cases"]:
        w.doc(doc, indent + "    ")
        w(f"{indent}    case {ident(case)}")
    w(f"{indent}    /// A value this build does not know (a newer peer's): carried, never a decode failure.")
    w(f"{indent}    case unrecognized(Int32)")
    w("")
    w(f"{indent}    public init(rawValue: Int32) {{")
    w(f"{indent}        switch rawValue {{")
    for case, number, _ in entry["cases"]:
        w(f"{indent}        case {number}: self = .{case}")
    w(f"{indent}        default: self = .unrecognized(rawValue)")
    w(f"{indent}        }}")
    w(f"{indent}    }}")
    w("")
    w(f"{indent}    public var rawValue: Int32 {{")
    w(f"{indent}        switch self {{")
    for case, number, _ in entry["cases"]:
        w(f"{indent}        case .{case}: {number}")
    w(f"{indent}        case .unrecognized(let value): value")
    w(f"{indent}        }}")
    w(f"{indent}    }}")
    w("")
    w(f"{indent}    public static let allCases: [Self] = [{', '.join('.' + c for c, _, _ in entry['cases'])}]")
    w(f"{indent}}}")


def emit_struct(w, schema, entry, indent):
    """The Swift value type of a message, with its nested types inside it."""
    message = entry["desc"]
    fields = [field_info(schema, entry, i, f) for i, f in enumerate(message.field)]
    w.doc(entry["comments"].doc(entry["path"]), indent)
    conformances = ["Sendable", "Hashable"]
    if entry["file"].package in CODABLE and not OPTIONS.fixture:
        conformances.append("Codable")
    access = "" if entry["map_entry"] else "public "
    w(f"{indent}{access}struct {ident(entry['short'])}: {', '.join(conformances)} {{")
    inner = indent + "    "
    for index, oneof in enumerate(message.oneof_decl):
        members = [f for f in fields if f["oneof"] == index]
        if not members:
            continue
        w.doc(entry["comments"].doc(entry["path"] + [8, index]), inner)
        w(f"{inner}public enum {camel(oneof.name, upper=True)}: {', '.join(conformances)} {{")
        for f in members:
            w.doc(f["doc"], inner + "    ")
            w(f"{inner}    case {f['prop']}({f['swift']})")
        w(f"{inner}}}")
        w("")
    params = []
    for f in fields:
        if f["oneof"] is not None:
            continue
        w.doc(f["doc"], inner)
        w(f"{inner}{access}var {f['prop']}: {swift_type(f)}")
        params.append((f["prop"], swift_type(f), swift_default(f)))
    for index, oneof in enumerate(message.oneof_decl):
        if any(f["oneof"] == index for f in fields):
            name = ident(camel(oneof.name))
            w(f"{inner}public var {name}: {camel(oneof.name, upper=True)}?")
            params.append((name, f"{camel(oneof.name, upper=True)}?", "nil"))
    w("")
    w(f"{inner}{access}init(" + ", ".join(f"{p}: {t} = {d}" for p, t, d in params) + ") {")
    for p, _, _ in params:
        w(f"{inner}    self.{p.strip('`')} = {p}")
    w(f"{inner}}}")
    for child in children(schema, entry):
        w("")
        if child["kind"] == "enum":
            emit_enum(w, child, inner)
        else:
            emit_struct(w, schema, child, inner)
    w(f"{indent}}}")


def children(schema, entry):
    prefix = entry["full"] + "."
    return [t for t in schema.types.values() if t["full"].startswith(prefix) and "." not in t["full"][len(prefix):]]


def fill_lines(schema, entry, f, w):
    """Lines of fill(_:arena:) that write field `f` into the C message `m`."""
    prop, cf = f["prop"], f["name"]
    if cf in KEYWORDS:
        cf = cf + "_"
    field_name = f'"\\(Self.protoName).{f["name"]}"'
    kind = f["kind"]
    if kind == "map":
        key, value = f["key"], f["value"]
        entry_swift = f["target"]["swift"]
        w(f"        (m.pointee.n_{cf}, m.pointee.{cf}) = try arena.messages(")
        w(f"            {prop}.sorted {{ $0.key < $1.key }}.map {{ {entry_swift}(key: $0.key, value: $0.value) }})")
        return
    if f["repeated"]:
        if kind == "message":
            w(f"        (m.pointee.n_{cf}, m.pointee.{cf}) = try arena.messages({prop})")
        elif f["field"].type == FD.TYPE_STRING:
            w(f"        (m.pointee.n_{cf}, m.pointee.{cf}) = try arena.strings({prop}, field: {field_name})")
        elif kind == "enum":
            ctype = f["target"]["ctype"]
            w(f"        if !{prop}.isEmpty {{")
            w(f"            let array = arena.allocate({ctype}.self, count: {prop}.count)")
            w(f"            for (index, value) in {prop}.enumerated() {{ array[index] = {ctype}(rawValue: UInt32(bitPattern: value.rawValue)) }}")
            w(f"            m.pointee.n_{cf} = {prop}.count")
            w(f"            m.pointee.{cf} = array")
            w("        }")
        elif kind == "scalar" and f["field"].type != FD.TYPE_BYTES:
            w(f"        (m.pointee.n_{cf}, m.pointee.{cf}) = arena.scalars({prop})")
        else:
            raise SystemExit(f"{entry['full']}.{f['name']}: repeated bytes are not supported")
        return
    w(f"        {assign(f, prop, cf, field_name)}")


def assign(f, value, cf, field_name):
    kind = f["kind"]
    if kind == "message":
        return f"if let {value} {{ m.pointee.{cf} = try arena.message({value}) }}"
    if kind == "enum":
        return f"m.pointee.{cf} = {f['target']['ctype']}(rawValue: UInt32(bitPattern: {value}.rawValue))"
    t = f["field"].type
    if t == FD.TYPE_STRING:
        return f"m.pointee.{cf} = try arena.cString({value}, field: {field_name})"
    if t == FD.TYPE_BYTES:
        return f"m.pointee.{cf} = arena.binary({value})"
    if t == FD.TYPE_BOOL:
        return f"m.pointee.{cf} = {value} ? 1 : 0"
    return f"m.pointee.{cf} = {value}"


def read_expr(f, source="m.pointee"):
    """The Swift expression reading field `f` out of the C message."""
    kind, cf = f["kind"], f["name"]
    if cf in KEYWORDS:
        cf = cf + "_"
    field_name = f'"\\(Self.protoName).{f["name"]}"'
    t = f["field"].type
    if kind == "message" and f["swift"] == "CalendarDate" and not OPTIONS.fixture:
        return f"try CCodec.date({source}.{cf}, field: {field_name})"
    if kind == "message":
        return f"try CCodec.message({f['swift']}.self, {source}.{cf})"
    if kind == "enum":
        return f"try CCodec.enumValue({source}.{cf}.rawValue, field: {field_name})"
    if t == FD.TYPE_STRING:
        return f"try CCodec.string({source}.{cf}, field: {field_name})"
    if t == FD.TYPE_BYTES:
        return f"CCodec.bytes({source}.{cf})"
    if t == FD.TYPE_BOOL:
        return f"{source}.{cf} != 0"
    if f["range"]:
        lo, hi = f["range"]
        return f"try CCodec.ranged({source}.{cf}, {lo}...{hi}, field: {field_name})"
    return f"{source}.{cf}"


def emit_conformance(w, schema, entry):
    message = entry["desc"]
    fields = [field_info(schema, entry, i, f) for i, f in enumerate(message.field)]
    swift, ctype, cfn = entry["swift"], entry["ctype"], entry["cfn"]
    w("")
    w(f"extension {swift}: WireMessage, CBacked, SchemaDescribed {{")
    w(f"    package typealias CMessage = {ctype}")
    w(f'    public static let protoName = "{entry["full"]}"')
    w(f"    package static var cDescriptor: ProtobufCMessageDescriptor {{ {cfn}__descriptor }}")
    w(f"    package static func cInit(_ m: UnsafeMutablePointer<CMessage>) {{ {cfn}__init(m) }}")
    if entry["nested"]:
        # protobuf-c packs and unpacks nested messages only through their parent: the generic calls.
        w("    package static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { CCodec.packedSize(m) }")
        w("    package static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { CCodec.pack(m, out) }")
        w("    package static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {")
        w("        CCodec.unpack(Self.self, a, n, d)")
        w("    }")
    else:
        w(f"    package static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int {{ {cfn}__get_packed_size(m) }}")
        w(f"    package static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int {{ {cfn}__pack(m, out) }}")
        w(f"    package static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {{ {cfn}__unpack(a, n, d) }}")
    w("")
    w("    package func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {")
    for f in fields:
        if f["oneof"] is None:
            fill_lines(schema, entry, f, w)
    for index, oneof in enumerate(message.oneof_decl):
        members = [f for f in fields if f["oneof"] == index]
        if not members:
            continue
        name = ident(camel(oneof.name))
        w(f"        switch {name} {{")
        w("        case nil: break")
        for f in members:
            cf = f["name"] + ("_" if f["name"] in KEYWORDS else "")
            w(f"        case .{f['prop']}(let value):")
            w(f"            m.pointee.{oneof.name}_case = {ctype}__{camel(oneof.name, upper=True)}Case(rawValue: {f['field'].number})")
            field_name = f'"\\(Self.protoName).{f["name"]}"'
            if f["kind"] == "message":
                w(f"            m.pointee.{cf} = try arena.message(value)")
            else:
                w(f"            {assign(f, 'value', cf, field_name)}")
        w("        }")
    if not fields:
        w("        _ = (m, arena)")
    w("    }")
    w("")
    w("    package init(c m: UnsafePointer<CMessage>) throws(WireError) {")
    args = []
    for f in fields:
        if f["oneof"] is not None:
            continue
        prop, cf = f["prop"], f["name"] + ("_" if f["name"] in KEYWORDS else "")
        plain = f["plain"]
        field_name = f'"\\(Self.protoName).{f["name"]}"'
        if f["kind"] == "map":
            entry_swift = f["target"]["swift"]
            w(f"        var {plain}: {f['swift']} = [:]")
            w(f"        for element in try CCodec.messages({entry_swift}.self, m.pointee.n_{cf}, m.pointee.{cf}, field: {field_name}) {{")
            if f["value"]["kind"] == "message":
                w(f"            {plain}[element.key] = element.value ?? {f['value']['swift']}()")
            else:
                w(f"            {plain}[element.key] = element.value")
            w("        }")
            expr = plain
        elif f["repeated"]:
            if f["kind"] == "message":
                expr = f"try CCodec.messages({f['swift']}.self, m.pointee.n_{cf}, m.pointee.{cf}, field: {field_name})"
            elif f["field"].type == FD.TYPE_STRING:
                expr = f"try CCodec.strings(m.pointee.n_{cf}, m.pointee.{cf}, field: {field_name})"
            elif f["kind"] == "enum":
                w(f"        var {plain}: [{f['swift']}] = []")
                w(f"        if m.pointee.n_{cf} > 0, let array = m.pointee.{cf} {{")
                w(f"            {plain}.reserveCapacity(m.pointee.n_{cf})")
                w(f"            for index in 0..<m.pointee.n_{cf} {{")
                w(f'                {plain}.append(try CCodec.enumValue(array[index].rawValue, field: "\\(Self.protoName).{f["name"]}[\\(index)]"))')
                w("            }")
                w("        }")
                expr = plain
            else:
                expr = f"CCodec.scalars(m.pointee.n_{cf}, m.pointee.{cf})"
        else:
            expr = read_expr(f)
        args.append(f"{plain}: {expr}")
    for index, oneof in enumerate(message.oneof_decl):
        members = [f for f in fields if f["oneof"] == index]
        if not members:
            continue
        name = camel(oneof.name)
        w(f"        let {name}: {camel(oneof.name, upper=True)}?")
        w(f"        switch m.pointee.{oneof.name}_case.rawValue {{")
        for f in members:
            case_c = f["field"].number
            expr = read_expr(f)
            if f["kind"] == "message":
                expr = f"try CCodec.requiredMessage({f['swift']}.self, m.pointee.{f['name']}, field: \"\\(Self.protoName).{f['name']}\")"
            w(f"        case {case_c}: {name} = .{f['prop']}({expr})")
        w(f"        default: {name} = nil")
        w("        }")
        args.append(f"{name}: {name}")
    if args:
        w("        self.init(")
        for i, a in enumerate(args):
            w(f"            {a}{',' if i + 1 < len(args) else ''}")
        w("        )")
    else:
        w("        _ = m")
        w("        self.init()")
    required = [f for f in fields if f["required"]]
    if required:
        w("        var required = RequiredFields(Self.protoName)")
        for f in required:
            prop = f["prop"]
            if f["oneof"] is not None:
                raise SystemExit(f"{entry['full']}.{f['name']}: mark the oneof, not a member, required")
            if f["repeated"] or f["kind"] == "map" or f["field"].type in (FD.TYPE_STRING, FD.TYPE_BYTES):
                cond = f"!{prop}.isEmpty"
            elif f["kind"] == "message":
                cond = f"{prop} != nil"
            elif f["kind"] == "enum":
                cond = f"{prop}.rawValue != 0"
            elif f["field"].type == FD.TYPE_BOOL:
                raise SystemExit(f"{entry['full']}.{f['name']}: a bool cannot be required")
            else:
                cond = f"{prop} != 0"
            w(f'        required.require({cond}, "{f["name"]}")')
        w("        try required.check()")
    w("    }")
    w("")
    w("    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }")
    w("    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {")
    w("        self = try CCodec.decode(Self.self, from: bytes, limits: limits)")
    w("    }")
    w("}")


def emit_service_table(w, file, comments, index, service, schema):
    """The method descriptors of one service (HSBWire: names and types only)."""
    ns = namespace(file.package)
    full = f"{file.package}.{service.name}"
    w("")
    w(f"extension {ns} {{")
    w.doc(comments.doc([6, index]), "    ")
    w(f"    public enum {service.name} {{")
    w(f'        public static let name = "{full}"')
    w("")
    w("        /// One descriptor per method: its full name and its request and reply types.")
    w("        public enum Method {")
    for mi, method in enumerate(service.method):
        request, reply = schema.get(method.input_type)["swift"], schema.get(method.output_type)["swift"]
        w.doc(comments.doc([6, index, 2, mi]), "            ")
        w(f"            public static let {method_camel(method.name)} = MethodDescriptor<{request}, {reply}>(")
        w(f'                service: "{full}", method: "{method.name}")')
    w("")
    w("            /// Every method of the service.")
    w("            public static let all: [AnyMethodDescriptor] = [" + ", ".join(f"{method_camel(m.name)}.erased" for m in service.method) + "]")
    w("        }")
    w("    }")
    w("}")


def emit_service_stubs(w, file, comments, index, service, schema):
    """The typed server protocol and client of one service (HSBContract)."""
    ns = namespace(file.package)
    qualified = f"{ns}.{service.name}"
    methods = []
    for mi, method in enumerate(service.method):
        marks = comments.directives([6, index, 2, mi])
        methods.append({
            "name": method_camel(method.name), "request": schema.get(method.input_type)["swift"],
            "reply": schema.get(method.output_type)["swift"], "doc": comments.doc([6, index, 2, mi]),
            "anyone": marks.get("anyone", False),
        })
    w("")
    w(f"extension {qualified} {{")
    w(f"    /// The server side of `{file.package}.{service.name}`: one requirement per method, with the")
    w("    /// decoded request and the proven caller; the reply is encoded for it.")
    w("    public protocol ServiceProtocol: Sendable {")
    for m in methods:
        w.doc(m["doc"], "        ")
        context = "RequestContext" if m["anyone"] else "CallerContext"
        w(f"        func {m['name']}(_ request: {m['request']}, context: {context}) async throws -> {m['reply']}")
    w("    }")
    w("")
    w(f"    /// Calls `{file.package}.{service.name}` over any transport (a connection, or in process).")
    w("    public struct Client: Sendable {")
    w("        public let transport: any ClientTransport")
    w("")
    w("        public init(_ transport: any ClientTransport) {")
    w("            self.transport = transport")
    w("        }")
    for m in methods:
        w("")
        w.doc(m["doc"], "        ")
        w(f"        public func {m['name']}(_ request: {m['request']}, options: CallOptions = CallOptions()) async throws(RPCError) -> {m['reply']} {{")
        w(f"            try await transport.call(Method.{m['name']}, request, options: options)")
        w("        }")
    w("    }")
    w("}")
    w("")
    w(f"extension {qualified}.ServiceProtocol {{")
    w("    /// This implementation's methods for a server, each under the access policy `policy` gives")
    w("    /// its full name.")
    w("    public func methodHandlers(policy: (String) -> AccessPolicy) -> [MethodHandler] {")
    w("        [")
    for m in methods:
        descriptor = f"{qualified}.Method.{m['name']}"
        if m["anyone"]:
            w(f"            .unary({descriptor}, policy: policy({descriptor}.fullName)) {{ context, request in")
        else:
            w(f"            .authenticated({descriptor}, policy: policy({descriptor}.fullName)) {{ context, request in")
        w(f"                try await self.{m['name']}(request, context: context)")
        w("            },")
    w("        ]")
    w("    }")
    w("}")


def generate_package(schema, file, rel):
    ns = namespace(file.package)
    shared = file.package in SHARED and not OPTIONS.fixture
    comments = Comments(file)
    w = Writer()
    w(f"// Generated by scripts/generate-swift-wire.py from {rel}. Do not edit.")
    w("")
    w("package import CProtobufC")
    w(f"package import {OPTIONS.c_module}")
    if OPTIONS.fixture:
        w("public import HSBWire")
    top = [t for t in schema.types.values() if t["file"] is file and t["full"].count(".") == file.package.count(".") + 1]
    if not shared or file.service:
        w("")
        w(f"/// The `{file.package}` package of the wire contract.")
        w(f"public enum {ns} {{}}")
    for entry in top:
        w("")
        if shared:
            if entry["kind"] == "enum":
                emit_enum(w, entry, "")
            else:
                emit_struct(w, schema, entry, "")
        else:
            w(f"extension {ns} {{")
            if entry["kind"] == "enum":
                emit_enum(w, entry, "    ")
            else:
                emit_struct(w, schema, entry, "    ")
            w("}")
    messages = [t for t in schema.types.values() if t["file"] is file and t["kind"] == "message"]
    for entry in messages:
        emit_conformance(w, schema, entry)
    for index, service in enumerate(file.service):
        emit_service_table(w, file, comments, index, service, schema)
    if OPTIONS.fixture:
        return w.text(), None
    w("")
    w(f"extension {ns if (not shared or file.service) else 'WireSchema'} {{")
    w("    /// The C struct size of every message of the package, for the decoding budget.")
    w(f"    static let {'messageSizes' if (not shared or file.service) else camel(ns) + 'MessageSizes'}: [Int] = [" + ", ".join(f"{m['swift']}.cMessageSize" for m in messages) + "]")
    w("}")
    sizes = f"{ns}.messageSizes" if (not shared or file.service) else f"WireSchema.{camel(ns)}MessageSizes"
    return w.text(), sizes


def generate_services(schema, file, rel):
    comments = Comments(file)
    w = Writer()
    w(f"// Generated by scripts/generate-swift-wire.py from {rel}. Do not edit.")
    w("")
    w("public import HSBRuntime")
    w("public import HSBWire")
    for index, service in enumerate(file.service):
        emit_service_stubs(w, file, comments, index, service, schema)
    return w.text()


def formatted(text):
    """The text as swift-format writes it, so the generated files pass the format check."""
    result = subprocess.run(
        ["swift", "format", "format", "--configuration", os.path.join(ROOT, ".swift-format")],
        input=text, capture_output=True, text=True, check=True)
    return result.stdout


def descriptor_set(proto_root):
    paths = sorted(
        os.path.relpath(os.path.join(dirpath, name), proto_root)
        for dirpath, _, names in os.walk(proto_root) for name in names if name.endswith(".proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "contract.pb")
        subprocess.run(
            ["protoc-c", f"--descriptor_set_out={out}", "--include_source_info", "--include_imports", *paths],
            cwd=proto_root, check=True)
        files = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as handle:
            files.ParseFromString(handle.read())
    return list(files.file)


def write_tree(directory, files, check):
    existing = {n for n in os.listdir(directory) if n.endswith(".swift")} if os.path.isdir(directory) else set()
    if check:
        stale = [n for n in existing if n not in files]
        differ = [n for n, t in files.items() if not os.path.exists(os.path.join(directory, n)) or open(os.path.join(directory, n)).read() != t]
        return sorted(stale + differ)
    os.makedirs(directory, exist_ok=True)
    for n in existing - set(files):
        os.remove(os.path.join(directory, n))
    for n, t in files.items():
        with open(os.path.join(directory, n), "w") as handle:
            handle.write(t)
    return []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--fixture")
    parser.add_argument("--proto-root", default=PROTO)
    parser.add_argument("--out")
    parser.add_argument("--c-module", default="HSBProtoC")
    parser.add_argument("--c-prefix", default="")
    args = parser.parse_args()
    OPTIONS.c_module, OPTIONS.c_prefix, OPTIONS.fixture = args.c_module, args.c_prefix, args.fixture
    files = descriptor_set(args.proto_root)
    schema = Schema(files)
    wire, contract, sizes = {}, {}, []
    for file in files:
        rel = os.path.relpath(os.path.join(args.proto_root, file.name), ROOT)
        ns = namespace(file.package)
        text, size = generate_package(schema, file, rel)
        wire[f"{ns}.swift"] = formatted(text)
        if size:
            sizes.append(size)
        if file.service and not args.fixture:
            contract[f"{ns}Services.swift"] = formatted(generate_services(schema, file, rel))
    if args.fixture:
        out_of_date = [f"{args.fixture}/{n}" for n in write_tree(args.out, wire, args.check)]
    else:
        wire["GeneratedSchema.swift"] = formatted(
            "// Generated by scripts/generate-swift-wire.py. Do not edit.\n\n"
            "/// The C struct sizes of every message of the contract.\n"
            "let generatedMessageSizes: [Int] = [" + ", ".join(sorted(sizes)) + "].flatMap { $0 }\n"
        )
        out_of_date = [f"HSBWire/{n}" for n in write_tree(WIRE_OUT, wire, args.check)]
        out_of_date += [f"HSBContract/{n}" for n in write_tree(CONTRACT_OUT, contract, args.check)]
    if args.check:
        if out_of_date:
            print(f"generated Swift wire code is out of date ({', '.join(out_of_date)}): run scripts/generate-protos.sh", file=sys.stderr)
            sys.exit(1)
        print(f"generated Swift code matches {os.path.relpath(args.proto_root, ROOT)}")
        return
    print(f"generated {len(wire) + len(contract)} Swift file(s)")


if __name__ == "__main__":
    main()
