internal import CProtobufC
internal import HSBProtoC

/// An agency of the safeguarding partnership, or a caller acting for one (`hsb.common.v1.Agency`).
public enum Agency: OpenEnum {
    case unspecified
    /// Children's social care: the contact service and the MASH.
    case socialCare
    case youthJustice
    case camhs
    case mappa
    /// The partnership's orchestrator.
    case orchestrator
    case police
    case education
    case health
    case adultSocialCare
    /// Operations staff: health and metrics only.
    case ops
    /// A value this build does not know (a newer peer's): carried, never a decode failure.
    case unrecognized(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .socialCare
        case 2: self = .youthJustice
        case 3: self = .camhs
        case 4: self = .mappa
        case 5: self = .orchestrator
        case 6: self = .police
        case 7: self = .education
        case 8: self = .health
        case 9: self = .adultSocialCare
        case 10: self = .ops
        default: self = .unrecognized(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .socialCare: 1
        case .youthJustice: 2
        case .camhs: 3
        case .mappa: 4
        case .orchestrator: 5
        case .police: 6
        case .education: 7
        case .health: 8
        case .adultSocialCare: 9
        case .ops: 10
        case .unrecognized(let value): value
        }
    }

    public static let allCases: [Self] = [
        .unspecified, .socialCare, .youthJustice, .camhs, .mappa, .orchestrator, .police, .education, .health, .adultSocialCare, .ops,
    ]

    /// The name used in configuration and credentials files, e.g. `youth-justice`.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .socialCare: "social-care"
        case .youthJustice: "youth-justice"
        case .camhs: "camhs"
        case .mappa: "mappa"
        case .orchestrator: "orchestrator"
        case .police: "police"
        case .education: "education"
        case .health: "health"
        case .adultSocialCare: "adult-social-care"
        case .ops: "ops"
        case .unrecognized(let value): "agency-\(value)"
        }
    }

    /// The agency with configuration name `name`, if there is one (`unspecified` is never named).
    public init?(name: String) {
        guard let match = Agency.allCases.first(where: { $0 != .unspecified && $0.name == name }) else { return nil }
        self = match
    }
}

/// A calendar date with no time zone (`hsb.common.v1.Date`).
public struct CalendarDate: Sendable, Hashable, Codable {
    public var year: Int32
    public var month: Int32
    public var day: Int32

    public init(year: Int32, month: Int32, day: Int32) {
        self.year = year
        self.month = month
        self.day = day
    }
}

extension CalendarDate {
    /// The years a date on the wire may fall in: no child, incident, meeting or review of the
    /// procedures lies outside them, and keeping to them keeps every date's arithmetic in range.
    public static let acceptedYears: ClosedRange<Int32> = 1900...2200

    /// Why this is not a date the suite accepts, or nil when it is one.
    public var problem: String? {
        guard Self.acceptedYears.contains(year) else {
            return "year \(year) is outside \(Self.acceptedYears.lowerBound)-\(Self.acceptedYears.upperBound)"
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days: Int32 =
            switch month {
            case 1, 3, 5, 7, 8, 10, 12: 31
            case 4, 6, 9, 11: 30
            case 2: leap ? 29 : 28
            default: 0
            }
        guard days > 0 else { return "month \(month) is not a month" }
        guard (1...days).contains(day) else { return "\(year)-\(month)-\(day) is not a date" }
        return nil
    }
}

extension CalendarDate: WireMessage, CBacked {
    typealias CMessage = Hsb__Common__V1__Date
    public static let protoName = "hsb.common.v1.Date"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__common__v1__date__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__common__v1__date__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__common__v1__date__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__common__v1__date__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.year = year
        m.pointee.month = month
        m.pointee.day = day
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(year: m.pointee.year, month: m.pointee.month, day: m.pointee.day)
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// Whether a subject is the child displaying HSB or a person harmed (GEN-01).
public enum SubjectRole: OpenEnum {
    case unspecified
    case childDisplayingHSB
    case personHarmed
    /// A value this build does not know (a newer peer's): carried, never a decode failure.
    case unrecognized(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .childDisplayingHSB
        case 2: self = .personHarmed
        default: self = .unrecognized(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .childDisplayingHSB: 1
        case .personHarmed: 2
        case .unrecognized(let value): value
        }
    }

    public static let allCases: [Self] = [.unspecified, .childDisplayingHSB, .personHarmed]
}

/// A person a referral or case is about (`hsb.common.v1.Subject`).
public struct Subject: Sendable, Hashable, Codable {
    public var subjectID: String
    public var role: SubjectRole
    public var givenName: String
    public var familyName: String
    public var dateOfBirth: CalendarDate?
    public var postcode: String
    /// The local authority where the child lives (SCR-12).
    public var homeAuthority: String
    public var lookedAfter: Bool
    public var openToSocialCare: Bool

    public init(
        subjectID: String, role: SubjectRole, givenName: String = "", familyName: String = "",
        dateOfBirth: CalendarDate? = nil, postcode: String = "", homeAuthority: String = "",
        lookedAfter: Bool = false, openToSocialCare: Bool = false
    ) {
        self.subjectID = subjectID
        self.role = role
        self.givenName = givenName
        self.familyName = familyName
        self.dateOfBirth = dateOfBirth
        self.postcode = postcode
        self.homeAuthority = homeAuthority
        self.lookedAfter = lookedAfter
        self.openToSocialCare = openToSocialCare
    }
}

extension Subject: WireMessage, CBacked {
    typealias CMessage = Hsb__Common__V1__Subject
    public static let protoName = "hsb.common.v1.Subject"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__common__v1__subject__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__common__v1__subject__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__common__v1__subject__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__common__v1__subject__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        let name = Self.protoName
        m.pointee.subject_id = try arena.cString(subjectID, field: "\(name).subject_id")
        m.pointee.role = Hsb__Common__V1__SubjectRole(rawValue: UInt32(bitPattern: role.rawValue))
        m.pointee.given_name = try arena.cString(givenName, field: "\(name).given_name")
        m.pointee.family_name = try arena.cString(familyName, field: "\(name).family_name")
        if let dateOfBirth { m.pointee.date_of_birth = try arena.message(dateOfBirth) }
        m.pointee.postcode = try arena.cString(postcode, field: "\(name).postcode")
        m.pointee.home_authority = try arena.cString(homeAuthority, field: "\(name).home_authority")
        m.pointee.looked_after = lookedAfter ? 1 : 0
        m.pointee.open_to_social_care = openToSocialCare ? 1 : 0
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        let name = Self.protoName
        self.init(
            subjectID: try CCodec.string(m.pointee.subject_id, field: "\(name).subject_id"),
            role: try CCodec.enumValue(m.pointee.role.rawValue, field: "\(name).role"),
            givenName: try CCodec.string(m.pointee.given_name, field: "\(name).given_name"),
            familyName: try CCodec.string(m.pointee.family_name, field: "\(name).family_name"),
            dateOfBirth: try CCodec.date(m.pointee.date_of_birth, field: "\(Self.protoName).date_of_birth"),
            postcode: try CCodec.string(m.pointee.postcode, field: "\(name).postcode"),
            homeAuthority: try CCodec.string(m.pointee.home_authority, field: "\(name).home_authority"),
            lookedAfter: m.pointee.looked_after != 0,
            openToSocialCare: m.pointee.open_to_social_care != 0
        )
        var required = RequiredFields(name)
        required.require(!subjectID.isEmpty, "subject_id")
        required.require(role != .unspecified, "role")
        try required.check()
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// A rule of the rule catalogue behind (part of) a decision (`hsb.common.v1.RuleCitation`).
public struct RuleCitation: Sendable, Hashable, Codable {
    /// The catalogue ID, e.g. `SCR-08`.
    public var ruleID: String
    /// The seed clause, e.g. `ISL 5.3`.
    public var source: String

    public init(ruleID: String, source: String) {
        self.ruleID = ruleID
        self.source = source
    }
}

extension RuleCitation: WireMessage, CBacked {
    typealias CMessage = Hsb__Common__V1__RuleCitation
    public static let protoName = "hsb.common.v1.RuleCitation"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__common__v1__rule_citation__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__common__v1__rule_citation__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__common__v1__rule_citation__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__common__v1__rule_citation__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.rule_id = try arena.cString(ruleID, field: "\(Self.protoName).rule_id")
        m.pointee.source = try arena.cString(source, field: "\(Self.protoName).source")
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(
            ruleID: try CCodec.string(m.pointee.rule_id, field: "\(Self.protoName).rule_id"),
            source: try CCodec.string(m.pointee.source, field: "\(Self.protoName).source")
        )
        var required = RequiredFields(Self.protoName)
        required.require(!ruleID.isEmpty, "rule_id")
        try required.check()
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// How a deadline is counted (`hsb.common.v1.DeadlineKind`).
public enum DeadlineKind: OpenEnum {
    case unspecified
    case workingDays
    case hours
    case calendarDays
    case workingDaysBefore
    case monthsBefore
    case review
    /// A value this build does not know (a newer peer's): carried, never a decode failure.
    case unrecognized(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .workingDays
        case 2: self = .hours
        case 3: self = .calendarDays
        case 4: self = .workingDaysBefore
        case 5: self = .monthsBefore
        case 6: self = .review
        default: self = .unrecognized(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .workingDays: 1
        case .hours: 2
        case .calendarDays: 3
        case .workingDaysBefore: 4
        case .monthsBefore: 5
        case .review: 6
        case .unrecognized(let value): value
        }
    }

    public static let allCases: [Self] = [.unspecified, .workingDays, .hours, .calendarDays, .workingDaysBefore, .monthsBefore, .review]
}

/// When something must be done by, and the rule that says so (`hsb.common.v1.Deadline`).
public struct Deadline: Sendable, Hashable, Codable {
    public var kind: DeadlineKind
    /// Milliseconds since the Unix epoch (UTC).
    public var dueUnixMillis: Int64
    public var ruleID: String
    public var description: String

    public init(kind: DeadlineKind, dueUnixMillis: Int64, ruleID: String, description: String) {
        self.kind = kind
        self.dueUnixMillis = dueUnixMillis
        self.ruleID = ruleID
        self.description = description
    }
}

extension Deadline: WireMessage, CBacked {
    typealias CMessage = Hsb__Common__V1__Deadline
    public static let protoName = "hsb.common.v1.Deadline"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__common__v1__deadline__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__common__v1__deadline__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__common__v1__deadline__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__common__v1__deadline__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.kind = Hsb__Common__V1__DeadlineKind(rawValue: UInt32(bitPattern: kind.rawValue))
        m.pointee.due_unix_ms = dueUnixMillis
        m.pointee.rule_id = try arena.cString(ruleID, field: "\(Self.protoName).rule_id")
        m.pointee.description = try arena.cString(description, field: "\(Self.protoName).description")
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(
            kind: try CCodec.enumValue(m.pointee.kind.rawValue, field: "\(Self.protoName).kind"),
            dueUnixMillis: m.pointee.due_unix_ms,
            ruleID: try CCodec.string(m.pointee.rule_id, field: "\(Self.protoName).rule_id"),
            description: try CCodec.string(m.pointee.description, field: "\(Self.protoName).description")
        )
        var required = RequiredFields(Self.protoName)
        required.require(kind != .unspecified, "kind")
        try required.check()
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// A piece of work a decision or event creates (`hsb.common.v1.Task`).
public struct CaseTask: Sendable, Hashable, Codable {
    public var taskID: String
    public var description: String
    public var owner: Agency
    public var deadline: Deadline?
    public var ruleID: String
    /// Who within the owning agency does it (e.g. `independent-reviewing-officer`); may be empty.
    public var assignee: String
    /// The subject the task concerns; empty for the whole case.
    public var subjectID: String

    public init(
        taskID: String, description: String, owner: Agency, deadline: Deadline? = nil, ruleID: String, assignee: String = "", subjectID: String = ""
    ) {
        self.taskID = taskID
        self.description = description
        self.owner = owner
        self.deadline = deadline
        self.ruleID = ruleID
        self.assignee = assignee
        self.subjectID = subjectID
    }
}

extension CaseTask: WireMessage, CBacked {
    typealias CMessage = Hsb__Common__V1__Task
    public static let protoName = "hsb.common.v1.Task"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__common__v1__task__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__common__v1__task__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__common__v1__task__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__common__v1__task__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.task_id = try arena.cString(taskID, field: "\(Self.protoName).task_id")
        m.pointee.description = try arena.cString(description, field: "\(Self.protoName).description")
        m.pointee.owner = Hsb__Common__V1__Agency(rawValue: UInt32(bitPattern: owner.rawValue))
        if let deadline { m.pointee.deadline = try arena.message(deadline) }
        m.pointee.rule_id = try arena.cString(ruleID, field: "\(Self.protoName).rule_id")
        m.pointee.assignee = try arena.cString(assignee, field: "\(Self.protoName).assignee")
        m.pointee.subject_id = try arena.cString(subjectID, field: "\(Self.protoName).subject_id")
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(
            taskID: try CCodec.string(m.pointee.task_id, field: "\(Self.protoName).task_id"),
            description: try CCodec.string(m.pointee.description, field: "\(Self.protoName).description"),
            owner: try CCodec.enumValue(m.pointee.owner.rawValue, field: "\(Self.protoName).owner"),
            deadline: try CCodec.message(Deadline.self, m.pointee.deadline),
            ruleID: try CCodec.string(m.pointee.rule_id, field: "\(Self.protoName).rule_id"),
            assignee: try CCodec.string(m.pointee.assignee, field: "\(Self.protoName).assignee"),
            subjectID: try CCodec.string(m.pointee.subject_id, field: "\(Self.protoName).subject_id")
        )
        var required = RequiredFields(Self.protoName)
        required.require(!taskID.isEmpty, "task_id")
        try required.check()
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// Someone who must be told, why, and the rule that says so (`hsb.common.v1.Notice`).
public struct Notice: Sendable, Hashable, Codable {
    /// A role within an agency, e.g. `independent-reviewing-officer`.
    public var recipient: String
    public var agency: Agency
    public var reason: String
    public var ruleID: String

    public init(recipient: String, agency: Agency, reason: String, ruleID: String) {
        self.recipient = recipient
        self.agency = agency
        self.reason = reason
        self.ruleID = ruleID
    }
}

extension Notice: WireMessage, CBacked {
    typealias CMessage = Hsb__Common__V1__Notice
    public static let protoName = "hsb.common.v1.Notice"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__common__v1__notice__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__common__v1__notice__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__common__v1__notice__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__common__v1__notice__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.recipient = try arena.cString(recipient, field: "\(Self.protoName).recipient")
        m.pointee.agency = Hsb__Common__V1__Agency(rawValue: UInt32(bitPattern: agency.rawValue))
        m.pointee.reason = try arena.cString(reason, field: "\(Self.protoName).reason")
        m.pointee.rule_id = try arena.cString(ruleID, field: "\(Self.protoName).rule_id")
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(
            recipient: try CCodec.string(m.pointee.recipient, field: "\(Self.protoName).recipient"),
            agency: try CCodec.enumValue(m.pointee.agency.rawValue, field: "\(Self.protoName).agency"),
            reason: try CCodec.string(m.pointee.reason, field: "\(Self.protoName).reason"),
            ruleID: try CCodec.string(m.pointee.rule_id, field: "\(Self.protoName).rule_id"))
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// What the suite decided, for whom, and why (`hsb.common.v1.Decision`).
public struct Decision: Sendable, Hashable, Codable {
    public var outcome: String
    public var subjectIDs: [String]
    public var routes: [String]
    public var tasks: [CaseTask]
    public var notify: [Agency]
    public var citations: [RuleCitation]
    /// A rationale a practitioner can read in a minute.
    public var rationale: String
    public var notices: [Notice]

    public init(
        outcome: String, subjectIDs: [String] = [], routes: [String] = [], tasks: [CaseTask] = [],
        notify: [Agency] = [], citations: [RuleCitation] = [], rationale: String = "", notices: [Notice] = []
    ) {
        self.outcome = outcome
        self.subjectIDs = subjectIDs
        self.routes = routes
        self.tasks = tasks
        self.notify = notify
        self.citations = citations
        self.rationale = rationale
        self.notices = notices
    }
}

extension Decision: WireMessage, CBacked {
    typealias CMessage = Hsb__Common__V1__Decision
    public static let protoName = "hsb.common.v1.Decision"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__common__v1__decision__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__common__v1__decision__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__common__v1__decision__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__common__v1__decision__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        let name = Self.protoName
        m.pointee.outcome = try arena.cString(outcome, field: "\(name).outcome")
        (m.pointee.n_subject_ids, m.pointee.subject_ids) = try arena.strings(subjectIDs, field: "\(name).subject_ids")
        (m.pointee.n_routes, m.pointee.routes) = try arena.strings(routes, field: "\(name).routes")
        (m.pointee.n_tasks, m.pointee.tasks) = try arena.messages(tasks)
        if !notify.isEmpty {
            let array = arena.allocate(Hsb__Common__V1__Agency.self, count: notify.count)
            for (index, agency) in notify.enumerated() {
                array[index] = Hsb__Common__V1__Agency(rawValue: UInt32(bitPattern: agency.rawValue))
            }
            m.pointee.n_notify = notify.count
            m.pointee.notify = array
        }
        (m.pointee.n_citations, m.pointee.citations) = try arena.messages(citations)
        m.pointee.rationale = try arena.cString(rationale, field: "\(name).rationale")
        (m.pointee.n_notices, m.pointee.notices) = try arena.messages(notices)
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        let name = Self.protoName
        var notify: [Agency] = []
        if m.pointee.n_notify > 0, let array = m.pointee.notify {
            notify.reserveCapacity(m.pointee.n_notify)
            for index in 0..<m.pointee.n_notify {
                notify.append(try CCodec.enumValue(array[index].rawValue, field: "\(name).notify[\(index)]"))
            }
        }
        self.init(
            outcome: try CCodec.string(m.pointee.outcome, field: "\(name).outcome"),
            subjectIDs: try CCodec.strings(m.pointee.n_subject_ids, m.pointee.subject_ids, field: "\(name).subject_ids"),
            routes: try CCodec.strings(m.pointee.n_routes, m.pointee.routes, field: "\(name).routes"),
            tasks: try CCodec.messages(CaseTask.self, m.pointee.n_tasks, m.pointee.tasks, field: "\(name).tasks"),
            notify: notify,
            citations: try CCodec.messages(RuleCitation.self, m.pointee.n_citations, m.pointee.citations, field: "\(name).citations"),
            rationale: try CCodec.string(m.pointee.rationale, field: "\(name).rationale"),
            notices: try CCodec.messages(Notice.self, m.pointee.n_notices, m.pointee.notices, field: "\(name).notices")
        )
        var required = RequiredFields(name)
        required.require(!outcome.isEmpty, "outcome")
        try required.check()
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}
