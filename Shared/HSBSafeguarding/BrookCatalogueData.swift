// The Brook sexual behaviours traffic light tool, as Appendix 1 of the Camden protocol (CAM 5,
// App. 1) lists it: every behaviour for each age band, graded green, amber or red (SCR-01).
// Texts are the seed's own; ids are stable and never reused.

extension BrookCatalogue {
    /// What each grade means (CAM App. 1, "Description").
    public static let gradeDescriptions: [TrafficLight: String] = [
        .green:
            "Safe and healthy sexual development displayed by children or young people of a similar age or developmental ability and reflecting natural curiosity, experimentation, consensual activities and positive choices",
        .amber:
            "Behaviours that are potentially outside safe and healthy behaviour and which is of potential concern due to age or developmental differences or because of the type of activity, frequency, duration or context in which the behaviour occurs",
        .red:
            "Behaviours that are outside safe and healthy behaviours and involve: excessive, secretive, compulsive, coercive, degrading or threatening behaviours; significant age, developmental and power differences; behaviour type, frequency, duration or context that is concerning",
    ]

    /// Every behaviour of the tool.
    public static let entries: [BrookBehaviour] = [
        BrookBehaviour(id: "brook/0-5/green/1", band: .zeroToFive, grade: .green, text: "holding or playing with own genitals"),
        BrookBehaviour(
            id: "brook/0-5/green/2", band: .zeroToFive, grade: .green, text: "attempting to touch or curiosity about other children's genitals"),
        BrookBehaviour(
            id: "brook/0-5/green/3", band: .zeroToFive, grade: .green,
            text: "attempting to touch or curiosity about breasts, bottoms or genitals of adults"),
        BrookBehaviour(id: "brook/0-5/green/4", band: .zeroToFive, grade: .green, text: "games eg; mummies and daddies, doctors and nurses"),
        BrookBehaviour(id: "brook/0-5/green/5", band: .zeroToFive, grade: .green, text: "enjoying nakedness"),
        BrookBehaviour(id: "brook/0-5/green/6", band: .zeroToFive, grade: .green, text: "interest in body parts and what they do"),
        BrookBehaviour(id: "brook/0-5/green/7", band: .zeroToFive, grade: .green, text: "Curiosity about differences between boys and girls"),
        BrookBehaviour(id: "brook/0-5/amber/1", band: .zeroToFive, grade: .amber, text: "pre-occupation with adult sexual behaviour"),
        BrookBehaviour(
            id: "brook/0-5/amber/2", band: .zeroToFive, grade: .amber, text: "pulling other children's pants/skirt/trousers down against their will"),
        BrookBehaviour(id: "brook/0-5/amber/3", band: .zeroToFive, grade: .amber, text: "talking about sex using adult slang"),
        BrookBehaviour(id: "brook/0-5/amber/4", band: .zeroToFive, grade: .amber, text: "preoccupation with touching the genitals of other people"),
        BrookBehaviour(
            id: "brook/0-5/amber/5", band: .zeroToFive, grade: .amber,
            text: "following others into toilets or changing rooms to look at them or touch them"),
        BrookBehaviour(id: "brook/0-5/amber/6", band: .zeroToFive, grade: .amber, text: "talking about sexual activities seen on TV/online"),
        BrookBehaviour(id: "brook/0-5/red/1", band: .zeroToFive, grade: .red, text: "persistently touching the genitals of other children"),
        BrookBehaviour(id: "brook/0-5/red/2", band: .zeroToFive, grade: .red, text: "persistent attempts to touch the genitals of adults"),
        BrookBehaviour(id: "brook/0-5/red/3", band: .zeroToFive, grade: .red, text: "simulation of sexual activity in play"),
        BrookBehaviour(
            id: "brook/0-5/red/4", band: .zeroToFive, grade: .red, text: "sexual behaviour between young children involving penetration with objects"),
        BrookBehaviour(id: "brook/0-5/red/5", band: .zeroToFive, grade: .red, text: "forcing other children to engage in sexual play"),
        BrookBehaviour(id: "brook/5-9/green/1", band: .fiveToNine, grade: .green, text: "feeling and touching own genitals"),
        BrookBehaviour(id: "brook/5-9/green/2", band: .fiveToNine, grade: .green, text: "curiosity about other children's genitals"),
        BrookBehaviour(
            id: "brook/5-9/green/3", band: .fiveToNine, grade: .green,
            text:
                "curiosity about sex and relationships ,ie; difference between boys and girls, where babies come from, how sex happens, same sex relationships"
        ),
        BrookBehaviour(id: "brook/5-9/green/4", band: .fiveToNine, grade: .green, text: "sense of privacy about bodies"),
        BrookBehaviour(
            id: "brook/5-9/green/5", band: .fiveToNine, grade: .green,
            text: "telling stories or asking questions using swear or slang words for parts of the body"),
        BrookBehaviour(
            id: "brook/5-9/amber/1", band: .fiveToNine, grade: .amber,
            text: "questions about sexual activity which persist or are repeated frequently despite an answer having been given"),
        BrookBehaviour(
            id: "brook/5-9/amber/2", band: .fiveToNine, grade: .amber, text: "sexual bullying face to face or through texts or online messaging"),
        BrookBehaviour(id: "brook/5-9/amber/3", band: .fiveToNine, grade: .amber, text: "engaging in mutual masturbation"),
        BrookBehaviour(id: "brook/5-9/amber/4", band: .fiveToNine, grade: .amber, text: "persistent sexual images and ideas in talk, play and art"),
        BrookBehaviour(id: "brook/5-9/amber/5", band: .fiveToNine, grade: .amber, text: "use of adult slang language to discuss sex"),
        BrookBehaviour(id: "brook/5-9/red/1", band: .fiveToNine, grade: .red, text: "frequent masturbation in front of others"),
        BrookBehaviour(
            id: "brook/5-9/red/2", band: .fiveToNine, grade: .red, text: "sexual behaviour engaging significantly younger or less able children"),
        BrookBehaviour(id: "brook/5-9/red/3", band: .fiveToNine, grade: .red, text: "forcing other children to take part in sexual activities"),
        BrookBehaviour(id: "brook/5-9/red/4", band: .fiveToNine, grade: .red, text: "simulation of oral or penetrative sex"),
        BrookBehaviour(id: "brook/5-9/red/5", band: .fiveToNine, grade: .red, text: "sourcing pornographic material online"),
        BrookBehaviour(id: "brook/9-13/green/1", band: .nineToThirteen, grade: .green, text: "solitary masturbation"),
        BrookBehaviour(
            id: "brook/9-13/green/2", band: .nineToThirteen, grade: .green, text: "use of sexual language including swear and slang words"),
        BrookBehaviour(
            id: "brook/9-13/green/3", band: .nineToThirteen, grade: .green, text: "having girl/boyfriends who are of the same, opposite or any gender"
        ),
        BrookBehaviour(
            id: "brook/9-13/green/4", band: .nineToThirteen, grade: .green,
            text: "interest in popular culture eg: fashion, music, media, online games, chatting online"),
        BrookBehaviour(id: "brook/9-13/green/5", band: .nineToThirteen, grade: .green, text: "need for privacy"),
        BrookBehaviour(id: "brook/9-13/green/6", band: .nineToThirteen, grade: .green, text: "consensual kissing, hugging, holding hands with peers"),
        BrookBehaviour(
            id: "brook/9-13/amber/1", band: .nineToThirteen, grade: .amber,
            text:
                "uncharacteristic and risk-related behaviour eg: sudden and/or provocative changes in dress, withdrawal from friends, mixing with new or older people, having more or less money than usual, going missing"
        ),
        BrookBehaviour(
            id: "brook/9-13/amber/2", band: .nineToThirteen, grade: .amber,
            text: "verbal, physical or cyber/virtual sexual bullying involving sexual aggression"),
        BrookBehaviour(id: "brook/9-13/amber/3", band: .nineToThirteen, grade: .amber, text: "LGBT targeted bullying"),
        BrookBehaviour(id: "brook/9-13/amber/4", band: .nineToThirteen, grade: .amber, text: "exhibitionism eg; flashing, mooning"),
        BrookBehaviour(id: "brook/9-13/amber/5", band: .nineToThirteen, grade: .amber, text: "giving out contact details online"),
        BrookBehaviour(id: "brook/9-13/amber/6", band: .nineToThirteen, grade: .amber, text: "viewing pornographic material"),
        BrookBehaviour(id: "brook/9-13/amber/7", band: .nineToThirteen, grade: .amber, text: "worrying about being pregnant or having STIs"),
        BrookBehaviour(id: "brook/9-13/red/1", band: .nineToThirteen, grade: .red, text: "exposing genitals or masturbating in public"),
        BrookBehaviour(
            id: "brook/9-13/red/2", band: .nineToThirteen, grade: .red, text: "distributing naked or sexually provocative images of self or others"),
        BrookBehaviour(id: "brook/9-13/red/3", band: .nineToThirteen, grade: .red, text: "sexually explicit talk with younger children"),
        BrookBehaviour(id: "brook/9-13/red/4", band: .nineToThirteen, grade: .red, text: "sexual harassment"),
        BrookBehaviour(id: "brook/9-13/red/5", band: .nineToThirteen, grade: .red, text: "arranging to meet with an online acquaintance in secret"),
        BrookBehaviour(id: "brook/9-13/red/6", band: .nineToThirteen, grade: .red, text: "genital injury to self or others"),
        BrookBehaviour(
            id: "brook/9-13/red/7", band: .nineToThirteen, grade: .red,
            text: "forcing other children of same age, younger, or less able to take part in sexual activities"),
        BrookBehaviour(id: "brook/9-13/red/8", band: .nineToThirteen, grade: .red, text: "sexual activity eg: oral sex or intercourse"),
        BrookBehaviour(id: "brook/9-13/red/9", band: .nineToThirteen, grade: .red, text: "presence of STIs"),
        BrookBehaviour(id: "brook/9-13/red/10", band: .nineToThirteen, grade: .red, text: "evidence of pregnancy"),
        BrookBehaviour(id: "brook/13-17/green/1", band: .thirteenToSeventeen, grade: .green, text: "solitary masturbation"),
        BrookBehaviour(id: "brook/13-17/green/2", band: .thirteenToSeventeen, grade: .green, text: "sexually explicit conversations with peers"),
        BrookBehaviour(
            id: "brook/13-17/green/3", band: .thirteenToSeventeen, grade: .green, text: "obscenities and jokes within the current cultural norm"),
        BrookBehaviour(id: "brook/13-17/green/4", band: .thirteenToSeventeen, grade: .green, text: "interest in erotica/pornography"),
        BrookBehaviour(id: "brook/13-17/green/5", band: .thirteenToSeventeen, grade: .green, text: "use of internet/e-media to chat online"),
        BrookBehaviour(id: "brook/13-17/green/6", band: .thirteenToSeventeen, grade: .green, text: "having sexual or non-sexual relationships"),
        BrookBehaviour(
            id: "brook/13-17/green/7", band: .thirteenToSeventeen, grade: .green, text: "sexual activity including hugging, kissing, holding hands"),
        BrookBehaviour(
            id: "brook/13-17/green/8", band: .thirteenToSeventeen, grade: .green,
            text: "consenting oral and/or penetrative sex with others of the same or opposite gender who are of similar age and developmental ability"
        ),
        BrookBehaviour(id: "brook/13-17/green/9", band: .thirteenToSeventeen, grade: .green, text: "choosing not to be sexually active"),
        BrookBehaviour(id: "brook/13-17/amber/1", band: .thirteenToSeventeen, grade: .amber, text: "accessing exploitative or violent pornography"),
        BrookBehaviour(
            id: "brook/13-17/amber/2", band: .thirteenToSeventeen, grade: .amber,
            text:
                "uncharacteristic and risk-related behaviour eg: sudden and/or provocative changes in dress, withdrawal from friends, mixing with new or older people, having more or less money than usual, going missing"
        ),
        BrookBehaviour(id: "brook/13-17/amber/3", band: .thirteenToSeventeen, grade: .amber, text: "concern about body image"),
        BrookBehaviour(
            id: "brook/13-17/amber/4", band: .thirteenToSeventeen, grade: .amber,
            text: "taking and sending naked or sexually provocative images of self or others"),
        BrookBehaviour(
            id: "brook/13-17/amber/5", band: .thirteenToSeventeen, grade: .amber,
            text: "single occurrence of peeping, exposing, mooning or obscene gestures"),
        BrookBehaviour(id: "brook/13-17/amber/6", band: .thirteenToSeventeen, grade: .amber, text: "giving out contact details online"),
        BrookBehaviour(
            id: "brook/13-17/amber/7", band: .thirteenToSeventeen, grade: .amber,
            text: "joining adult-only social networking sites and giving false personal information"),
        BrookBehaviour(
            id: "brook/13-17/amber/8", band: .thirteenToSeventeen, grade: .amber,
            text: "arranging a face to face meeting with an online contact alone"),
        BrookBehaviour(id: "brook/13-17/red/1", band: .thirteenToSeventeen, grade: .red, text: "exposing genitals or masturbating in public"),
        BrookBehaviour(
            id: "brook/13-17/red/2", band: .thirteenToSeventeen, grade: .red, text: "preoccupation with sex which interferes with daily function"),
        BrookBehaviour(id: "brook/13-17/red/3", band: .thirteenToSeventeen, grade: .red, text: "sexual degradation or humiliation of self or others"),
        BrookBehaviour(id: "brook/13-17/red/4", band: .thirteenToSeventeen, grade: .red, text: "attempting/forcing others to expose genitals"),
        BrookBehaviour(id: "brook/13-17/red/5", band: .thirteenToSeventeen, grade: .red, text: "sexually aggressive or exploitative behaviour"),
        BrookBehaviour(id: "brook/13-17/red/6", band: .thirteenToSeventeen, grade: .red, text: "sexually explicit talk with younger children"),
        BrookBehaviour(id: "brook/13-17/red/7", band: .thirteenToSeventeen, grade: .red, text: "sexual harassment"),
        BrookBehaviour(id: "brook/13-17/red/8", band: .thirteenToSeventeen, grade: .red, text: "non-consensual sexual activity"),
        BrookBehaviour(
            id: "brook/13-17/red/9", band: .thirteenToSeventeen, grade: .red, text: "use of/acceptance of power and control in sexual relationships"),
        BrookBehaviour(id: "brook/13-17/red/10", band: .thirteenToSeventeen, grade: .red, text: "genital injury to self or others"),
        BrookBehaviour(
            id: "brook/13-17/red/11", band: .thirteenToSeventeen, grade: .red,
            text: "sexual contact with others where there is a big difference in age or ability"),
        BrookBehaviour(id: "brook/13-17/red/12", band: .thirteenToSeventeen, grade: .red, text: "sexual activity with family members"),
        BrookBehaviour(
            id: "brook/13-17/red/13", band: .thirteenToSeventeen, grade: .red, text: "involvement in sexual exploitation and/or trafficking"),
        BrookBehaviour(id: "brook/13-17/red/14", band: .thirteenToSeventeen, grade: .red, text: "sexual contact with animals"),
        BrookBehaviour(id: "brook/13-17/red/15", band: .thirteenToSeventeen, grade: .red, text: "receipt of gifts or money in exchange for sex"),
    ]
}
