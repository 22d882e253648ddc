// The rule catalogue (docs/RULES.md): every rule's ID, its summary and the seed clauses it comes from.
// Generated once from docs/RULES.md; RuleCatalogueTests fails when the two disagree.

extension RuleCatalogue {
    /// Every rule, in catalogue order.
    public static let rules: [Rule] = [
        Rule(
            id: "GEN-01", source: "CAM 3, LLR 2, CAL 3b",
            summary:
                "A child is a person under 18. The child displaying HSB and each person harmed are separate subjects with separate records, needs and plans."
        ),
        Rule(
            id: "GEN-02", source: "CAM 8.3, LLR 8",
            summary: "The victim and the child displaying HSB are allocated different social workers, even in the same household."),
        Rule(
            id: "GEN-03", source: "LLR 17, GAT 3.3.1",
            summary:
                "Under 10: below the age of criminal responsibility. No police investigation or criminal justice route; Children's Social Care leads (strategy discussion SW + team manager, enquiry, CP conference if needed). A police decision about an under-10 opens no route by itself; youth justice is not engaged (no AIM3 checklist, no MAPPA consideration)."
        ),
        Rule(
            id: "GEN-04", source: "LLR 3 (Consent Issues)",
            summary:
                "Under 13 cannot legally consent to sexual activity: any sexual activity involving a child under 13 needs a child protection referral."
        ),
        Rule(
            id: "GEN-05", source: "LLR 3",
            summary:
                "Aged 13-15: the record must carry an assessment of competence to consent (Gillick/Fraser) and of the relationship (age, maturity, development, power)."
        ),
        Rule(
            id: "GEN-06", source: "LLR 2",
            summary: "A person harmed who is an adult in need of safeguarding also gets a referral to Adult Social Care."),
        Rule(
            id: "GEN-07", source: "LLR 1, LLR 7",
            summary:
                "Language: the suite never labels a child \"sex offender\" or \"abuser\"; it says \"child displaying HSB\". Statutory MAPPA records may say \"offender\"."
        ),
        Rule(
            id: "SCR-01", source: "CAM 5 + App. 1, LLR 2-3, GAT 3.3.2",
            summary:
                "Each presenting behaviour is graded green, amber or red with the Brook traffic light tool for the child's age band: 0-5, 5-9, 9-13, 13-17 (the full catalogue of Appendix 1). The band is chosen from the age; a boundary age follows a documented convention."
        ),
        Rule(
            id: "SCR-02", source: "CAM 4, LLR 5, GAT 3",
            summary:
                "The six harm indicators are recorded and raise concern: frequency beyond developmental expectation; interferes with development; coercion, intimidation or force; emotional distress; divergent ages or abilities; recurs in secrecy after intervention."
        ),
        Rule(
            id: "SCR-03", source: "LLR 3, ISL 3",
            summary:
                "The behaviour is placed on the Hackett continuum: normal, inappropriate, problematic, abusive, violent, using the descriptors in the seeds."
        ),
        Rule(
            id: "SCR-04", source: "ISL 3, 3.1",
            summary:
                "Risk category (ISL): inappropriate = 0, problematic = 1, abusive = 2, violent = 3; the matrix ties category, continuum, traffic light and threshold together."
        ),
        Rule(
            id: "SCR-05", source: "CAM 7",
            summary:
                "Threshold: inappropriate -> early help; problematic (amber) -> child in need; abusive (red) directed at a child at risk of significant harm -> child protection; evidence that the child displaying HSB is being abused -> child protection for that child too."
        ),
        Rule(
            id: "SCR-06", source: "ISL 5.1, CAM 8.1",
            summary:
                "Category 0: new referrals stepped down to targeted youth support / early help; an open case gets a step-down meeting naming a lead agency other than children's social care."
        ),
        Rule(
            id: "SCR-07", source: "ISL 5.2",
            summary:
                "Category 1: strategy discussion with police (or HSB strategy meeting) where significant harm is suspected; otherwise an HSB risk discussion inside an existing meeting (TAC, review, core group/CP conference, CIN meeting); a diversion plan is put into the child's plan; a family group conference is considered."
        ),
        Rule(
            id: "SCR-08", source: "ISL 5.3, CAM 8.3, GAT 3.3.1",
            summary:
                "Category 2 or 3: HSB strategy meeting within 3 working days (ISL); within 3 days of social care receiving the referral, or of an incident on a case it already holds (CAM); at most 72 hours (GAT). Complex concerns: at most 5 working days (ISL). Where a procedure sets no timescale (LLR, CAL) the partnership's configured default applies and the decision says so."
        ),
        Rule(
            id: "SCR-09", source: "ISL 5.4",
            summary:
                "Immediate protection (risk to life or serious immediate harm), in every profile and at any category: immediate action and a strategy discussion now. The HSB strategy meeting that follows is due within 5 working days under ISL; elsewhere within the profile's own SCR-08 timescale (immediate risk never makes it later)."
        ),
        Rule(
            id: "SCR-10", source: "CAM 6.1",
            summary:
                "A referral about an incident with a victim is made for both children and must carry: incident details; victim vulnerability factors; evidence of coercion or duress; the referrer's assessed risk; whether other children may be at risk. The missing items are named and requested from the referrer as a follow-up. A referral that indicates significant harm, or an urgent telephone referral, is screened on what it holds and never returned unprocessed; only a referral with no indication of significant harm may be returned as incomplete."
        ),
        Rule(
            id: "SCR-11", source: "CAM 6.1",
            summary:
                "An urgent referral made by telephone must be followed up in writing within 48 hours; the case shows that deadline until it is met."),
        Rule(
            id: "SCR-12", source: "CAM 6.1, LLR 8",
            summary:
                "A child living in another local authority is referred to the home authority; the local contact service is notified and keeps a copy."
        ),
        Rule(
            id: "SCR-13", source: "CAM 6.3",
            summary:
                "A child already open to children's social care: the allocated social worker is notified and consults manager and IRO; no duplicate case is opened."
        ),
        Rule(
            id: "SCR-14", source: "CAM 6.3, 8.5, LLR 6",
            summary:
                "A looked-after child: allocated social worker and IRO notified at once; fostering/resources/pathways teams informed; placement safety of other children reviewed; CLA review may be brought forward."
        ),
        Rule(
            id: "SCR-15", source: "CAM 6.2, 9.2",
            summary:
                "A police notification (MERLIN) goes to the contact service, with a copy to youth justice where the case is open there; RAG rating agreed with youth justice; social work assessment where siblings' safety is a concern or the child displaying HSB may be a victim."
        ),
        Rule(
            id: "SCR-16", source: "CAM 8.4, ISL 5.3, 7, GAT 3.3.1",
            summary:
                "Child sexual exploitation or gang links: CSE risk assessment and referral to the multi-agency sexual exploitation panel (MASE); exploitation referral considered."
        ),
        Rule(
            id: "SCR-17", source: "LLR 3",
            summary:
                "Youth-produced sexual images that are experimental or attention-seeking, with no intent to harm and no reckless misuse, are outside this procedure (screened out with reason). Adult involvement is routed to other procedures."
        ),
        Rule(id: "SCR-18", source: "CAM 8.2, 8.3", summary: "Child and family assessment completed within 35 days of referral."),
        Rule(
            id: "SCR-19", source: "LLR 8",
            summary:
                "The safeguarding unit is notified of every child whose assessment shows inappropriate, problematic, abusive or violent behaviour."),
        Rule(
            id: "SCR-20", source: "CAM 13",
            summary:
                "Parents are told of a referral unless that would increase risk of harm, interfere with a criminal investigation or cause undue delay; the reason is recorded."
        ),
        Rule(
            id: "SCR-21", source: "CAM 6.1, 15", summary: "\"No names\" consultation is possible before a referral, and creates no personal record."),
        Rule(
            id: "STR-01", source: "GAT 3.3.1, ISL 5.3, 5.4, CAM 14",
            summary:
                "Invitees: social care manager or social worker (chair), youth justice (completes the AIM3 checklist), education where relevant, police, health, other agencies involved; the referrer; parents/carers unless that raises risk; the young person where appropriate. An agency that cannot attend sends a written report. The chair follows the profile: ISL, the CSE, Missing and Trafficking Coordinator or a CP Coordinator."
        ),
        Rule(
            id: "STR-02", source: "GAT 3.3.1-3.3.2, ISL 5.3",
            summary:
                "The meeting decides and records: significant harm threshold and s47 (single or joint enquiry); initial safety plan; whether an AIM assessment is appropriate, its lead agency and timescale; MAPPA referral considered; exploitation/MASE referral considered."
        ),
        Rule(
            id: "STR-03", source: "LLR 9, CAM 8.3",
            summary:
                "Separate strategy meetings for victim and child displaying HSB are considered; a school attends only the meeting about its own pupil; police and the investigating social worker attend both."
        ),
        Rule(
            id: "STR-04", source: "ISL 6",
            summary:
                "Outcomes: no further action or diversion plan; s47 enquiry (joint or single) -> possibly initial child protection conference; immediate legal action; follow-up strategy meeting with a set date."
        ),
        Rule(
            id: "STR-05", source: "LLR 10, 13",
            summary:
                "Conference decides no CP plan but concerns remain -> child in need and a multi-agency HSB meeting convened as early as possible, with a chronology of presenting HSB, an assessment timetable, risk management plans for the child and for any child at risk, roles and a lead social worker."
        ),
        Rule(
            id: "STR-06", source: "LLR 13, CAM 8.2",
            summary:
                "Reviews: HSB risk management plan reviewed 3 and 6 months after it was agreed, then every 6 months. Child in need plan reviewed every 6 months. Each plan keeps its own schedule; recording one review never closes another's."
        ),
        Rule(
            id: "STR-07", source: "LLR 13",
            summary:
                "Closure is a multi-agency decision recorded with: level of risk, outcomes achieved, carers' capacity, need for ongoing support; long-term monitoring considered."
        ),
        Rule(
            id: "STR-08", source: "CAL 5, 6.5",
            summary:
                "HSB panel (CAL profile): a case comes to panel only after a social care assessment found HSB; the schedule of cases goes to members one week before the meeting; the panel advises the route (child protection, criminal justice, or both); minutes circulated; every case returns to panel for review."
        ),
        Rule(id: "STR-09", source: "LLR 9", summary: "Many victims or many children displaying HSB: a strategic management group coordinates."),
        Rule(
            id: "STR-10", source: "CAM 16",
            summary: "Professional disagreement on a case is recorded and escalated under the partnership escalation policy."),
        Rule(id: "YJ-01", source: "CAM 9.1", summary: "Youth justice works with young people aged 10 to 17."),
        Rule(
            id: "YJ-02", source: "GAT 3.3.1",
            summary:
                "Criminal justice route: a child 10+ interviewed by police for a sexual offence with a decision to proceed (out-of-court disposal or charge) is notified to youth justice; no further action does not trigger it; a long investigation is referred promptly, not after it ends."
        ),
        Rule(
            id: "YJ-03", source: "GAT 3.3.2",
            summary:
                "Concern route: any worker concerned about a young person 10+ refers; the Brook tool decides whether a strategy meeting is called."),
        Rule(
            id: "YJ-04", source: "GAT 3.3.1-3.4",
            summary:
                "AIM lead agency: youth justice on the criminal justice route; children's services on the concern route unless the case is already open to youth justice; the other agency provides a co-worker; only trained assessors lead. The lead obtains consent and shares the report; the co-worker does neither."
        ),
        Rule(
            id: "YJ-05", source: "LLR 2, GAT 3.3.1, GAT App. 1",
            summary:
                "AIM assessment for ages 12-17 across the problematic-to-violent range; it may proceed when the young person denies or will not engage, on best available information. Report sections: details; context; overview of the AIM3 model; AIM3 assessment; intervention and safety planning; conclusion and recommendations; author and date."
        ),
        Rule(id: "YJ-06", source: "CAM 9.2", summary: "Released under investigation: a service is offered by youth justice, social care or CAMHS."),
        Rule(
            id: "YJ-07", source: "CAM 9.2, LLR 15",
            summary: "Out-of-court disposals: triage, youth caution, youth conditional caution, decided at the police decision panel."),
        Rule(
            id: "YJ-08", source: "LLR 15, CAL 5",
            summary:
                "Guilty plea or finding: a pre-sentence report is requested with 6-8 weeks allowed to complete an AIM assessment; AssetPlus completed; a disposal proposed; an AIM intervention plan made; a referral order contract includes AIM assessment and intervention targets. Not guilty plea: no HSB assessment yet, but safety planning advice."
        ),
        Rule(
            id: "YJ-09", source: "CAM 9.2, 11.1",
            summary: "A CAMHS psychological assessment that covers the issues may be offered to court in place of an AIM assessment."),
        Rule(
            id: "YJ-10", source: "CAM 9.4",
            summary:
                "High Risk and Vulnerability Panel: referral when the young person poses a risk of serious harm or is highly vulnerable; panel membership as listed."
        ),
        Rule(
            id: "YJ-11", source: "CAM 10, LLR 16",
            summary:
                "Release from custody: referral to the resettlement panel 3 months before release; pre-release meeting 10 working days before release, with social care invited where there are concerns; the MASH manager is contacted; social care referral where siblings or other children are at risk; AssetPlus; MAPPA referral where the threshold is met; strategy discussion covers predictors, joint AIM, multi-agency strategies and whether the young person returns home."
        ),
        Rule(
            id: "YJ-12", source: "CAM 10, LLR 16, GAT 3.3",
            summary:
                "A young person with known HSB history moving into the area gets the same release-style planning, counted forward from when the move became known: a step whose release-style date has already passed is due at once, never created overdue."
        ),
        Rule(
            id: "YJ-13", source: "CAL 5",
            summary:
                "Admission on the criminal justice route (CAL profile): bail for 28 days or as set; youth justice leads if social care involvement ends; assessment goes to panel before police/CPS disposal."
        ),
        Rule(
            id: "YJ-14", source: "LLR 15",
            summary:
                "No further action or insufficient evidence but concerns remain: referred to early help or social care duty, rescreened with Brook and Hackett; managed through HSB multi-agency meetings."
        ),
        Rule(
            id: "MH-01", source: "CAM 11.2",
            summary: "Referral accepted when the child is under 18 at referral and has, or is thought to have, mental health concerns."),
        Rule(
            id: "MH-02", source: "CAM 11.3",
            summary: "A child already known to CAMHS: the team is told of the new concern; no second referral is opened."),
        Rule(id: "MH-03", source: "CAM 11.3", summary: "Single point of access; pre-referral consultation is available and recorded."),
        Rule(
            id: "MH-04", source: "CAM 11.1",
            summary:
                "CAMHS offers consultation to staff, direct assessment and treatment, and navigation to specialist services; it works jointly with the practitioner who knows the child."
        ),
        Rule(
            id: "MH-05", source: "CAM 11.1",
            summary:
                "If a CAMHS assessment is agreed before an AIM assessment is complete, not completing the whole AIM assessment is considered, so the child does not tell the story twice."
        ),
        Rule(
            id: "MP-01", source: "CAM 9.6",
            summary:
                "Category 1: registered sexual offenders (notification requirements from 12 months to life). Category 2: violent offenders sentenced to 12 months' custody or more, and some sexual offenders, while on licence. Category 3: other dangerous offenders assessed as posing a risk of serious harm."
        ),
        Rule(
            id: "MP-02", source: "CAM 9.6",
            summary:
                "Under 18: youth justice screens internally, the High Risk and Vulnerability Panel discusses, and a referral decision is recorded with reasons."
        ),
        Rule(
            id: "MP-03", source: "CAM 9.6",
            summary:
                "MAPPA sets the level of management; the risk management plan is reviewed regularly; youth justice implements it and monitors compliance."
        ),
        Rule(
            id: "MP-04", source: "GAT 3.3.1, LLR 15, CAM 10",
            summary: "MAPPA referral is considered at every strategy meeting, on conviction and before release from custody."),
        Rule(
            id: "MP-05", source: "CAM 13",
            summary: "Information about a MAPPA-managed young person is shared only as the MAPPA forum decides, on a need-to-know basis."),
        Rule(
            id: "INF-01", source: "CAL 6.5, CAM 13",
            summary:
                "Every disclosure to another agency records: what, to whom, purpose, lawful basis (Children Act 2004; Crime and Disorder Act 1998 s115; data protection crime exemption; risk of significant harm; vital interests; medical purpose; court order) and whether consent was given."
        ),
        Rule(
            id: "INF-02", source: "CAL 6.5",
            summary: "Sharing without consent is allowed on those grounds and always leaves a written record of the grounds."),
        Rule(
            id: "INF-03", source: "CAM 13",
            summary:
                "Consent to share: under 12 -> parents; 12-15 -> the young person if competent, otherwise parents; 16-17 -> the young person where they have capacity."
        ),
        Rule(
            id: "INF-04", source: "CAM 13, CAL 6.6",
            summary:
                "Need to know: each agency sees only what it needs for its purpose; in a school only the head teacher and designated safeguarding lead."
        ),
        Rule(
            id: "INF-05", source: "CAL 6.4, 6.6",
            summary: "Information is used only for the purposes it was shared for; access is restricted and logged."),
        Rule(
            id: "INF-06", source: "CAM 13",
            summary:
                "Notifications: schools tell social care of incidents, monitoring and exclusions; social care tells agencies when it becomes involved and of strategy meetings; police tell contact service and youth justice of incidents and arrests; youth justice tells contact service when a young person enters the criminal justice system and of court decisions."
        ),
        Rule(id: "INF-07", source: "CAM 14, CAL 6.5", summary: "Meeting minutes are shared with the partner agencies that attended or reported."),
        Rule(
            id: "INF-08", source: "ISL 8",
            summary:
                "Records of safety plans, consultations with rationale, multi-professional meetings, diversion plans and intervention plans exist for every child in risk categories 1-3."
        ),
    ]
}
