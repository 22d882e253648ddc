#!/usr/bin/env python3
"""Generates the Swift side of the wire contract for service packages.

For each .proto under proto/ whose package is not hsb.common.v1, hsb.rpc.v1 or hsb.health.v1
(those are written by hand in Shared/HSBWire), writes Shared/HSBWire/Generated/<Package>.swift:
Swift value types and enums, and their conversion to and from the protobuf-c structs.

A field whose comment says `range LO..HI` (e.g. `// required, range 1..3`) is refused outside
those bounds, naming the field. A field whose line ends with `// required` must be set: a non-empty string, bytes or repeated
field, a present message, a non-zero enum or number. Decoding names every missing one.

Supported: proto3 messages of string, bytes, bool, int32, int64, uint32, uint64, enums and
messages (singular or repeated); top-level enums. No nested messages, maps or oneofs.
Usage: scripts/generate-swift-wire.py [--check]
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO = os.path.join(ROOT, "proto")
OUT = os.path.join(ROOT, "Shared", "HSBWire", "Generated")
HAND_WRITTEN = {"hsb.common.v1", "hsb.rpc.v1", "hsb.health.v1"}
# Hand-written Swift types for the shared messages and enums.
KNOWN = {
    "hsb.common.v1.Agency": ("Agency", "enum"),
    "hsb.common.v1.Date": ("CalendarDate", "message"),
    "hsb.common.v1.SubjectRole": ("SubjectRole", "enum"),
    "hsb.common.v1.Subject": ("Subject", "message"),
    "hsb.common.v1.RuleCitation": ("RuleCitation", "message"),
    "hsb.common.v1.DeadlineKind": ("DeadlineKind", "enum"),
    "hsb.common.v1.Deadline": ("Deadline", "message"),
    "hsb.common.v1.Task": ("CaseTask", "message"),
    "hsb.common.v1.Decision": ("Decision", "message"),
    "hsb.common.v1.Notice": ("Notice", "message"),
}
SCALARS = {
    "string": ("String", '""'),
    "bytes": ("[UInt8]", "[]"),
    "bool": ("Bool", "false"),
    "int32": ("Int32", "0"),
    "int64": ("Int64", "0"),
    "uint32": ("UInt32", "0"),
    "uint64": ("UInt64", "0"),
}


def camel(name, upper=False):
    parts = name.split("_")
    text = parts[0].lower() + "".join(p[:1].upper() + p[1:].lower() for p in parts[1:])
    return text[:1].upper() + text[1:] if upper else text


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


def c_prefix(package):
    return "__".join(p.capitalize() for p in package.split("."))


def parse(path):
    text = open(path).read()
    package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
    enums, messages = [], []
    lines = text.split("\n")
    i = 0
    doc = []
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("//"):
            doc.append(line[2:].strip())
            i += 1
            continue
        m = re.match(r"(enum|message)\s+(\w+)\s*\{", line)
        if m:
            kind, name = m.groups()
            body = []
            depth = 1
            i += 1
            while depth:
                inner = lines[i]
                depth += inner.count("{") - inner.count("}")
                if depth:
                    body.append(inner)
                i += 1
            item = {"name": name, "doc": doc, "body": body}
            (enums if kind == "enum" else messages).append(item)
            doc = []
            continue
        doc = []
        i += 1
    for enum in enums:
        enum["values"] = []
        for line in enum["body"]:
            m = re.match(r"\s*(\w+)\s*=\s*(\d+);", line)
            if m:
                enum["values"].append((m.group(1), int(m.group(2))))
    for message in messages:
        message["fields"] = []
        fdoc = []
        for line in message["body"]:
            stripped = line.strip()
            if stripped.startswith("//"):
                fdoc.append(stripped[2:].strip())
                continue
            m = re.match(r"\s*(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+);\s*(//\s*(.*))?$", line)
            if m:
                note = m.group(6) or ""
                bounds = re.search(r"range (-?\d+)\.\.(-?\d+)", note)
                message["fields"].append({
                    "repeated": bool(m.group(1)), "type": m.group(2), "name": m.group(3),
                    "required": note.startswith("required"), "doc": fdoc,
                    "range": (int(bounds.group(1)), int(bounds.group(2))) if bounds else None,
                })
            elif stripped and not stripped.startswith("enum") and stripped != "}":
                raise SystemExit(f"{path}: cannot read field line: {stripped}")
            fdoc = []
    return package, enums, messages


def namespace(package):
    # hsb.intake.v1 -> IntakeV1
    parts = package.split(".")[1:]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def generated_types(paths):
    """Every type of the generated packages, so one package can use another's messages."""
    types = {}
    for path in paths:
        if re.search(r"^package\s+([\w.]+);", open(path).read(), re.M).group(1) in HAND_WRITTEN:
            continue
        package, enums, messages = parse(path)
        ns = namespace(package)
        for item, kind in [(e, "enum") for e in enums] + [(m, "message") for m in messages]:
            types[f"{package}.{item['name']}"] = (f"{ns}.{item['name']}", kind)
    return types


def generate(path, known):
    package, enums, messages = parse(path)
    ns = namespace(package)
    cpre = c_prefix(package)
    lpre = package.replace(".", "__")
    local = {}
    for e in enums:
        local[f"{package}.{e['name']}"] = (f"{ns}.{e['name']}", "enum", f"{cpre}__{e['name']}")
    for m in messages:
        local[f"{package}.{m['name']}"] = (f"{ns}.{m['name']}", "message", f"{cpre}__{m['name']}")

    def resolve(type_name):
        if type_name in SCALARS:
            return ("scalar", SCALARS[type_name][0], None)
        full = type_name if "." in type_name else f"{package}.{type_name}"
        if full in local:
            swift, kind, ctype = local[full]
            return (kind, swift, ctype)
        if full in known:
            swift, kind = known[full]
            pkg, short = full.rsplit(".", 1)
            return (kind, swift, f"{c_prefix(pkg)}__{short}")
        raise SystemExit(f"{path}: unknown type {type_name}")

    out = []
    w = out.append
    rel = os.path.relpath(path, ROOT)
    w(f"// Generated by scripts/generate-swift-wire.py from {rel}. Do not edit.")
    w("")
    w("internal import CProtobufC")
    w("internal import HSBProtoC")
    w("")
    w(f"/// The `{package}` package of the wire contract.")
    w(f"public enum {ns} {{}}")
    for e in enums:
        w("")
        for d in e["doc"]:
            w(f"/// {d}")
        prefix = enum_prefix(e["name"])
        cases = []
        for value, number in e["values"]:
            short = value[len(prefix):] if value.startswith(prefix) else value
            cases.append((camel(short), number))
        w(f"extension {ns} {{")
        w(f"    public enum {e['name']}: OpenEnum {{")
        for case, number in cases:
            w(f"        case {case}")
        w("        /// A value this build does not know (a newer peer's): carried, never a decode failure.")
        w("        case unrecognized(Int32)")
        w("")
        w("        public init(rawValue: Int32) {")
        w("            switch rawValue {")
        for case, number in cases:
            w(f"            case {number}: self = .{case}")
        w("            default: self = .unrecognized(rawValue)")
        w("            }")
        w("        }")
        w("")
        w("        public var rawValue: Int32 {")
        w("            switch self {")
        for case, number in cases:
            w(f"            case .{case}: {number}")
        w("            case .unrecognized(let value): value")
        w("            }")
        w("        }")
        w("")
        w(f"        public static let allCases: [Self] = [{', '.join('.' + c for c, _ in cases)}]")
        w("    }")
        w("}")
    for m in messages:
        name = m["name"]
        full = f"{package}.{name}"
        ctype = f"{cpre}__{name}"
        cfn = f"{lpre.lower()}__{c_snake(name)}"
        w("")
        for d in m["doc"]:
            w(f"/// {d}")
        w(f"extension {ns} {{")
        w(f"    public struct {name}: Sendable, Hashable {{")
        params = []
        for f in m["fields"]:
            kind, swift, _ = resolve(f["type"])
            prop = camel(f["name"])
            if f["repeated"]:
                t, default = f"[{swift}]", "[]"
            elif kind == "message":
                t, default = f"{swift}?", "nil"
            elif kind == "enum":
                enum_values = None
                full_enum = f["type"] if "." in f["type"] else f"{package}.{f['type']}"
                t, default = swift, None
                for e in enums:
                    if f"{package}.{e['name']}" == full_enum:
                        first = e["values"][0][0]
                        prefix = enum_prefix(e["name"])
                        default = "." + camel(first[len(prefix):] if first.startswith(prefix) else first)
                if default is None:
                    default = ".unspecified"
            else:
                t, default = swift, SCALARS[f["type"]][1]
            for d in f["doc"]:
                w(f"        /// {d}")
            w(f"        public var {prop}: {t}")
            params.append((prop, t, default))
        w("")
        w("        public init(" + ", ".join(f"{p}: {t} = {d}" for p, t, d in params) + ") {")
        for p, _, _ in params:
            w(f"            self.{p} = {p}")
        w("        }")
        w("    }")
        w("}")
        w("")
        w(f"extension {ns}.{name}: WireMessage, CBacked, SchemaDescribed {{")
        w(f"    typealias CMessage = {ctype}")
        w(f'    public static let protoName = "{full}"')
        w(f"    static var cDescriptor: ProtobufCMessageDescriptor {{ {cfn}__descriptor }}")
        w(f"    static func cInit(_ m: UnsafeMutablePointer<CMessage>) {{ {cfn}__init(m) }}")
        w(f"    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int {{ {cfn}__get_packed_size(m) }}")
        w(f"    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int {{ {cfn}__pack(m, out) }}")
        w(f"    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {{ {cfn}__unpack(a, n, d) }}")
        w("")
        w("    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {")
        for f in m["fields"]:
            kind, swift, fctype = resolve(f["type"])
            prop, cf = camel(f["name"]), f["name"]
            field_name = f'"\\(Self.protoName).{cf}"'
            if f["repeated"]:
                if kind == "message":
                    w(f"        (m.pointee.n_{cf}, m.pointee.{cf}) = try arena.messages({prop})")
                elif f["type"] == "string":
                    w(f"        (m.pointee.n_{cf}, m.pointee.{cf}) = try arena.strings({prop}, field: {field_name})")
                elif kind == "enum":
                    w(f"        if !{prop}.isEmpty {{")
                    w(f"            let array = arena.allocate({fctype}.self, count: {prop}.count)")
                    w(f"            for (index, value) in {prop}.enumerated() {{ array[index] = {fctype}(rawValue: UInt32(bitPattern: value.rawValue)) }}")
                    w(f"            m.pointee.n_{cf} = {prop}.count")
                    w(f"            m.pointee.{cf} = array")
                    w("        }")
                else:
                    raise SystemExit(f"{path}: repeated {f['type']} is not supported")
            elif kind == "message":
                w(f"        if let {prop} {{ m.pointee.{cf} = try arena.message({prop}) }}")
            elif kind == "enum":
                w(f"        m.pointee.{cf} = {fctype}(rawValue: UInt32(bitPattern: {prop}.rawValue))")
            elif f["type"] == "string":
                w(f"        m.pointee.{cf} = try arena.cString({prop}, field: {field_name})")
            elif f["type"] == "bytes":
                w(f"        m.pointee.{cf} = arena.binary({prop})")
            elif f["type"] == "bool":
                w(f"        m.pointee.{cf} = {prop} ? 1 : 0")
            else:
                w(f"        m.pointee.{cf} = {prop}")
        if not m["fields"]:
            w("        _ = (m, arena)")
        w("    }")
        w("")
        w("    init(c m: UnsafePointer<CMessage>) throws(WireError) {")
        args = []
        for f in m["fields"]:
            kind, swift, fctype = resolve(f["type"])
            prop, cf = camel(f["name"]), f["name"]
            field_name = f'"\\(Self.protoName).{cf}"'
            if f["repeated"]:
                if kind == "message":
                    expr = f"try CCodec.messages({swift}.self, m.pointee.n_{cf}, m.pointee.{cf}, field: {field_name})"
                elif f["type"] == "string":
                    expr = f"try CCodec.strings(m.pointee.n_{cf}, m.pointee.{cf}, field: {field_name})"
                else:
                    w(f"        var {prop}: [{swift}] = []")
                    w(f"        if m.pointee.n_{cf} > 0, let array = m.pointee.{cf} {{")
                    w(f"            for index in 0..<m.pointee.n_{cf} {{")
                    w(f'                {prop}.append(try CCodec.enumValue(array[index].rawValue, field: "\\(Self.protoName).{cf}[\\(index)]"))')
                    w("            }")
                    w("        }")
                    expr = prop
            elif kind == "message" and swift == "CalendarDate":
                expr = f"try CCodec.date(m.pointee.{cf}, field: {field_name})"
            elif kind == "message":
                expr = f"try CCodec.message({swift}.self, m.pointee.{cf})"
            elif kind == "enum":
                expr = f"try CCodec.enumValue(m.pointee.{cf}.rawValue, field: {field_name})"
            elif f["type"] == "string":
                expr = f"try CCodec.string(m.pointee.{cf}, field: {field_name})"
            elif f["type"] == "bytes":
                expr = f"CCodec.bytes(m.pointee.{cf})"
            elif f["type"] == "bool":
                expr = f"m.pointee.{cf} != 0"
            elif f["range"]:
                lo, hi = f["range"]
                expr = f"try CCodec.ranged(m.pointee.{cf}, {lo}...{hi}, field: {field_name})"
            else:
                expr = f"m.pointee.{cf}"
            args.append(f"{prop}: {expr}")
        if args:
            w("        self.init(")
            for i, a in enumerate(args):
                w(f"            {a}{',' if i + 1 < len(args) else ''}")
            w("        )")
        else:
            w("        _ = m")
            w("        self.init()")
        required = [f for f in m["fields"] if f["required"]]
        if required:
            w("        var required = RequiredFields(Self.protoName)")
            for f in required:
                kind, swift, _ = resolve(f["type"])
                prop = camel(f["name"])
                if f["repeated"] or f["type"] in ("string", "bytes"):
                    cond = f"!{prop}.isEmpty"
                elif kind == "message":
                    cond = f"{prop} != nil"
                elif kind == "enum":
                    cond = f"{prop}.rawValue != 0"
                elif f["type"] == "bool":
                    raise SystemExit(f"{path}: a bool cannot be required")
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
    w("")
    w(f"extension {ns} {{")
    w("    /// The C struct size of every message of the package, for the decoding budget.")
    w("    static let messageSizes: [Int] = [" + ", ".join(f"{ns}.{m['name']}.cMessageSize" for m in messages) + "]")
    w("}")
    return namespace(package), "\n".join(out) + "\n"


def formatted(text):
    """The text as swift-format writes it, so the generated files pass the format check."""
    result = subprocess.run(
        ["swift", "format", "format", "--configuration", os.path.join(ROOT, ".swift-format")],
        input=text, capture_output=True, text=True, check=True)
    return result.stdout


def main():
    check = "--check" in sys.argv
    files = {}
    namespaces = []
    paths = sorted(
        os.path.join(dirpath, name) for dirpath, _, names in os.walk(PROTO) for name in names if name.endswith(".proto"))
    known = dict(KNOWN)
    known.update(generated_types(paths))
    for path in paths:
        package = re.search(r"^package\s+([\w.]+);", open(path).read(), re.M).group(1)
        if package in HAND_WRITTEN:
            continue
        ns, text = generate(path, known)
        files[f"{ns}.swift"] = formatted(text)
        namespaces.append(ns)
    files["GeneratedSchema.swift"] = formatted(
        "// Generated by scripts/generate-swift-wire.py. Do not edit.\n\n"
        "/// The C struct sizes of every generated package's messages.\n"
        "let generatedMessageSizes: [Int] = [" + ", ".join(f"{n}.messageSizes" for n in sorted(namespaces)) + "].flatMap { $0 }\n"
    )
    existing = set(os.listdir(OUT)) if os.path.isdir(OUT) else set()
    if check:
        stale = [n for n in existing if n not in files]
        differ = [n for n, t in files.items() if not os.path.exists(os.path.join(OUT, n)) or open(os.path.join(OUT, n)).read() != t]
        if stale or differ:
            print(f"generated Swift wire code is out of date ({', '.join(sorted(stale + differ))}): run scripts/generate-protos.sh", file=sys.stderr)
            sys.exit(1)
        print("generated Swift wire code matches proto/")
        return
    os.makedirs(OUT, exist_ok=True)
    for n in existing - set(files):
        os.remove(os.path.join(OUT, n))
    for n, t in files.items():
        with open(os.path.join(OUT, n), "w") as handle:
            handle.write(t)
    print(f"generated {len(files)} Swift wire file(s)")


if __name__ == "__main__":
    main()
