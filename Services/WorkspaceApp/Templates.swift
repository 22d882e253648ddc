/// The pages' Mustache templates. `{{x}}` escapes HTML; `{{{x}}}` is used only for HTML the
/// workspace rendered itself (a page's body inside the layout).
enum Templates {
    static let layout = """
        <!DOCTYPE html>
        <html lang="en-GB">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{#hasErrors}}Error: {{/hasErrors}}{{title}} – HSB workspace</title>
        <link rel="stylesheet" href="/assets/workspace.css">
        </head>
        <body>
        <a href="#main" class="skip-link">Skip to main content</a>
        <header class="header"><div class="width">
        <a href="/" class="header-name">HSB workspace</a>
        {{#signedIn}}
        <nav aria-label="Main"><ul class="nav">{{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}</ul></nav>
        <div class="who">{{username}}, {{agencyLabel}}
        <form method="post" action="/sign-out" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"> · <button class="link-button" type="submit">Sign out</button></form></div>
        {{/signedIn}}
        </div></header>
        <main id="main" class="width main" tabindex="-1">
        {{#flash}}<div class="banner banner-success" role="status"><p>{{flash}}</p></div>{{/flash}}
        {{{body}}}
        </main>
        <footer class="footer"><div class="width"><p>Every decision cites the rule it rests on and the clause of the local procedures it comes from: <a href="/rules">the rules</a>.</p></div></footer>
        </body>
        </html>
        """

    static let errorSummary = """
        {{#hasErrors}}<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">
        <h2 id="error-summary-title">There is a problem</h2>
        <ul class="list">{{#errors}}<li><a href="#{{field}}">{{message}}</a></li>{{/errors}}</ul>
        </div>{{/hasErrors}}
        """

    /// One form field of any kind; the view model sets exactly one `is...` flag.
    static let field = """
        {{#isCheckbox}}<div class="checkbox"><input type="checkbox" id="{{id}}" name="{{name}}" value="yes"{{#checked}} checked{{/checked}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}><label for="{{id}}">{{label}}</label></div>{{#hasHint}}<div class="hint" id="{{id}}-hint">{{hint}}</div>{{/hasHint}}{{/isCheckbox}}
        {{^isCheckbox}}
        <div class="form-group{{#hasError}} form-group-error{{/hasError}}">
        {{#isGroup}}<fieldset{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}><legend class="small" id="{{id}}-legend">{{label}}{{^required}} (optional){{/required}}</legend>{{/isGroup}}
        {{^isGroup}}<label class="label" for="{{id}}">{{label}}{{^required}} (optional){{/required}}</label>{{/isGroup}}
        {{#hasHint}}<div class="hint" id="{{id}}-hint">{{hint}}</div>{{/hasHint}}
        {{#hasError}}<p class="error-message" id="{{id}}-error"><span class="visually-hidden">Error:</span> {{error}}</p>{{/hasError}}
        {{#isText}}<input class="input" type="text" id="{{id}}" name="{{name}}" value="{{value}}"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}{{#autocomplete}} autocomplete="{{autocomplete}}"{{/autocomplete}}>{{/isText}}
        {{#isPassword}}<input class="input" type="password" id="{{id}}" name="{{name}}" autocomplete="current-password"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{/isPassword}}
        {{#isDate}}<div class="date-input">
        <div class="date-item"><label class="date-label" for="{{id}}">Day</label><input class="input input-2" type="text" inputmode="numeric" id="{{id}}" name="{{name}}.day" value="{{day}}"></div>
        <div class="date-item"><label class="date-label" for="{{id}}.month">Month</label><input class="input input-2" type="text" inputmode="numeric" id="{{id}}.month" name="{{name}}.month" value="{{month}}"></div>
        <div class="date-item"><label class="date-label" for="{{id}}.year">Year</label><input class="input input-4" type="text" inputmode="numeric" id="{{id}}.year" name="{{name}}.year" value="{{year}}"></div>
        {{#withTime}}<div class="date-item"><label class="date-label" for="{{id}}.time">Time (24-hour)</label><input class="input input-4" type="text" id="{{id}}.time" name="{{name}}.time" value="{{time}}"></div>{{/withTime}}
        </div>{{/isDate}}
        {{#isNumber}}<input class="input input-number" type="text" inputmode="numeric" id="{{id}}" name="{{name}}" value="{{value}}"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{/isNumber}}
        {{#isTextarea}}<textarea class="textarea" id="{{id}}" name="{{name}}" rows="4"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{value}}</textarea>{{/isTextarea}}
        {{#isSelect}}<select class="select" id="{{id}}" name="{{name}}"{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}</select>{{/isSelect}}
        {{#isChoices}}{{#choices}}<div class="checkbox"><input type="{{inputType}}" id="{{id}}" name="{{name}}" value="{{value}}"{{#checked}} checked{{/checked}}><label for="{{id}}">{{label}}</label></div>{{/choices}}{{/isChoices}}
        {{#isInvitees}}<table id="{{id}}"><caption class="visually-hidden">{{label}}</caption><thead><tr><th scope="col">Agency or person</th><th scope="col">Invited</th><th scope="col">Attended</th><th scope="col">Sent a written report</th><th scope="col">For a school: its pupil's subject id</th></tr></thead><tbody>
        {{#rows}}<tr><th scope="row">{{label}}</th>
        <td><input type="checkbox" id="invited.{{role}}" name="invited.{{role}}" value="yes"{{#invited}} checked{{/invited}} aria-label="{{label}} invited"></td>
        <td><input type="checkbox" id="attended.{{role}}" name="attended.{{role}}" value="yes"{{#attended}} checked{{/attended}} aria-label="{{label}} attended"></td>
        <td><input type="checkbox" id="report.{{role}}" name="report.{{role}}" value="yes"{{#report}} checked{{/report}} aria-label="{{label}} sent a written report"></td>
        <td>{{#school}}<input class="input" type="text" id="pupil.{{role}}" name="pupil.{{role}}" value="{{pupil}}" aria-label="The school's pupil's subject id">{{/school}}</td></tr>{{/rows}}
        </tbody></table>{{/isInvitees}}
        {{#isGroup}}</fieldset>{{/isGroup}}
        </div>
        {{/isCheckbox}}
        """

    static let signIn = """
        <h1>Sign in</h1>
        {{> errorSummary}}
        <p class="lead">Sign in with the account your agency gave you. You act only for your own agency.</p>
        <form method="post" action="/sign-in" novalidate>
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#fields}}{{> field}}{{/fields}}
        <button class="button" type="submit">Sign in</button>
        </form>
        <p class="muted">After {{limit}} wrong passwords in a row an account is locked for {{lockMinutes}} minutes. Sessions end after {{idleMinutes}} minutes without use.</p>
        """

    static let tray = """
        <span class="caption">{{agencyLabel}}</span>
        <h1>Work tray</h1>
        <form method="get" action="/tray" class="filters">
        <div class="form-group"><label class="label" for="owner">Whose work</label>
        <select class="select" id="owner" name="owner">{{#owners}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/owners}}</select></div>
        <div class="form-group"><label class="label" for="kind">Kind of task</label>
        <select class="select" id="kind" name="kind">{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}</select></div>
        <button class="button button-secondary" type="submit">Show</button>
        </form>
        <form method="get" action="/cases" class="filters">
        <div class="form-group"><label class="label" for="case-id">Open a case by its id</label><input class="input" type="text" id="case-id" name="id"></div>
        <button class="button button-secondary" type="submit">Open case</button>
        </form>
        {{#sections}}
        <h2 id="{{id}}">{{title}} ({{count}})</h2>
        {{#hasRows}}<table aria-labelledby="{{id}}"><thead><tr><th scope="col">Due</th><th scope="col">Case</th><th scope="col">Task</th><th scope="col">Rule</th><th scope="col">Owner</th></tr></thead><tbody>
        {{#rows}}<tr><td>{{#overdue}}<strong class="tag tag-red">Overdue</strong> {{/overdue}}{{due}}</td><td><a href="/cases/{{caseId}}">{{caseId}}</a></td><td>{{description}}</td><td class="rule"><a href="/rules/{{ruleId}}">{{ruleId}}</a></td><td>{{owner}}</td></tr>{{/rows}}
        </tbody></table>{{/hasRows}}
        {{^hasRows}}<p class="muted">{{empty}}</p>{{/hasRows}}
        {{/sections}}
        """

    static let referral = """
        <span class="caption">{{agencyLabel}}</span>
        <h1>New referral</h1>
        {{> errorSummary}}
        <form method="post" action="/referrals/new" novalidate>
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="submission" value="{{submission}}">
        {{#groups}}
        <fieldset><legend>{{legend}}</legend>
        {{#hint}}<p class="hint">{{hint}}</p>{{/hint}}
        {{#isBehaviours}}
        {{#hasBand}}
        <div class="form-group{{#behaviourError}} form-group-error{{/behaviourError}}">
        <fieldset aria-describedby="behaviours-hint"><legend class="small" id="behaviours-legend">Behaviours seen, from the Brook traffic light tool for ages {{band}} (SCR-01)</legend>
        <div class="hint" id="behaviours-hint">Only this age band's behaviours are offered: the band comes from the date of birth and the incident date.</div>
        {{#behaviourError}}<p class="error-message"><span class="visually-hidden">Error:</span> {{behaviourError}}</p>{{/behaviourError}}
        {{#grades}}<h3>{{grade}}</h3><p class="hint">{{description}}</p>
        {{#items}}<div class="checkbox"><input type="checkbox" id="{{id}}" name="behaviours" value="{{value}}"{{#checked}} checked{{/checked}}><label for="{{id}}">{{label}}</label></div>{{/items}}{{/grades}}
        </fieldset></div>
        {{/hasBand}}
        {{^hasBand}}<div class="panel{{#behaviourError}} form-group-error{{/behaviourError}}">{{#behaviourError}}<p class="error-message"><span class="visually-hidden">Error:</span> {{behaviourError}}</p>{{/behaviourError}}<p>Enter the child's date of birth and the incident date above, then choose the button to see the behaviours for the child's age band.</p></div>{{/hasBand}}
        <button class="button button-secondary" type="submit" name="action" value="behaviours"{{^hasBand}} id="behaviours"{{/hasBand}}>Show the behaviours for the child's age</button>
        {{/isBehaviours}}
        {{#fields}}{{> field}}{{/fields}}
        </fieldset>
        {{/groups}}
        <button class="button" type="submit" name="action" value="submit">Submit the referral</button>
        </form>
        """

    static let casePage = """
        <span class="caption">Case {{caseId}}</span>
        <h1>{{childSubjectId}}, {{role}}</h1>
        <dl class="summary">
        <dt>Status</dt><dd><strong class="tag {{statusTag}}">{{status}}</strong></dd>
        {{#profile}}<dt>Procedure in force</dt><dd>{{profile}}</dd>{{/profile}}
        {{#threshold}}<dt>Threshold</dt><dd>{{threshold}}</dd>{{/threshold}}
        {{#grading}}<dt>Grading</dt><dd>{{grading}}</dd>{{/grading}}
        </dl>
        {{#hasDeadlines}}<table><caption>Deadlines</caption><thead><tr><th scope="col">Due</th><th scope="col">Task</th><th scope="col">Rule</th><th scope="col">Owner</th><th scope="col">State</th></tr></thead><tbody>
        {{{deadlineRows}}}
        </tbody></table>{{/hasDeadlines}}
        {{#hasEvents}}<h2>Record an event</h2><ul class="list">{{#events}}<li><a href="/cases/{{caseId}}/events/{{slug}}">{{title}}</a></li>{{/events}}</ul>{{/hasEvents}}
        {{#hasRationale}}<h2>Why: the screening decision</h2><ul class="list">{{#rationale}}<li>{{text}}{{#ruleId}} <a class="rule" href="/rules/{{ruleId}}">{{ruleId}}</a>{{#source}} <span class="muted">({{source}})</span>{{/source}}{{/ruleId}}</li>{{/rationale}}</ul>{{/hasRationale}}
        {{#hasGrades}}<table><caption>Behaviours{{#band}} (Brook traffic light, ages {{band}}){{/band}}</caption><thead><tr><th scope="col">Grade</th><th scope="col">Behaviour</th></tr></thead><tbody>{{#grades}}<tr><td><strong class="tag {{tag}}">{{grade}}</strong></td><td>{{text}}{{#byIndicators}} <span class="muted">(graded by the harm indicators: confirm it)</span>{{/byIndicators}}</td></tr>{{/grades}}</tbody></table>{{/hasGrades}}
        {{#lists}}<h2>{{title}}</h2><ul class="list">{{{items}}}</ul>{{/lists}}
        {{#hasNotices}}<h2>Notices owed</h2><ul class="list">{{#notices}}<li>To {{recipient}}: {{reason}} <a class="rule" href="/rules/{{ruleId}}">{{ruleId}}</a></li>{{/notices}}</ul>{{/hasNotices}}
        {{#hasRoutes}}<h2>Routes</h2><ul class="list">{{#routes}}<li>{{route}}{{#lead}}: lead {{lead}}{{/lead}}{{#coWorker}}, co-worker {{coWorker}}{{/coWorker}} {{#rules}}<a class="rule" href="/rules/{{.}}">{{.}}</a> {{/rules}}</li>{{/routes}}</ul>{{/hasRoutes}}
        {{#hasLinked}}<h2>Linked cases</h2><ul class="list">{{#linked}}<li><a href="/cases/{{caseId}}">{{caseId}}</a>: {{subjectId}}, {{role}}{{#threshold}}: {{threshold}}{{/threshold}}</li>{{/linked}}</ul>{{/hasLinked}}
        {{#hasWithheld}}<div class="panel"><h2>Withheld from you (need to know, INF-04)</h2><ul class="list">{{#withheld}}<li>{{.}}</li>{{/withheld}}</ul></div>{{/hasWithheld}}
        {{#hasSteps}}<h2>Sent to agencies and not yet accepted</h2><ul class="list">{{#steps}}<li>{{.}}</li>{{/steps}}</ul>{{/hasSteps}}
        {{#hasChronology}}<table><caption>Chronology</caption><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Rules</th></tr></thead><tbody>
        {{{chronologyRows}}}
        </tbody></table>{{/hasChronology}}
        {{#hasDisclosures}}<table><caption>Disclosures</caption><thead><tr><th scope="col">When</th><th scope="col">To</th><th scope="col">What</th><th scope="col">Basis</th><th scope="col">Consent</th></tr></thead><tbody>
        {{{disclosureRows}}}
        </tbody></table>{{/hasDisclosures}}
        """

    static let event = """
        <span class="caption">Case {{caseId}}: {{childSubjectId}}</span>
        <h1>{{title}}</h1>
        {{> errorSummary}}
        <p class="lead">{{intro}}</p>
        <div class="panel"><h2 class="small">What this closes</h2>
        {{#hasClosing}}<p>Recording this, once {{service}} accepts it, closes:</p><ul class="list">{{#closing}}<li>{{description}} <a class="rule" href="/rules/{{ruleId}}">{{ruleId}}</a> (due {{due}})</li>{{/closing}}</ul>{{/hasClosing}}
        {{^hasClosing}}<p>No open task of this case closes when this is recorded.</p>{{/hasClosing}}
        </div>
        <form method="post" action="/cases/{{caseId}}/events/{{slug}}" novalidate>
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="submission" value="{{submission}}">
        {{#fields}}{{> field}}{{/fields}}
        <button class="button" type="submit">Record it</button>
        <a class="button button-secondary" href="/cases/{{caseId}}">Back to the case</a>
        </form>
        """

    static let rules = """
        <h1>The procedures' rules</h1>
        <p class="lead">Each rule the suite follows, with the clause of the local procedures it comes from.</p>
        <dl class="summary">{{#sources}}<dt>{{code}}</dt><dd>{{title}}</dd>{{/sources}}</dl>
        <table><caption>Rules</caption><thead><tr><th scope="col">Rule</th><th scope="col">Clauses</th><th scope="col">What it says</th></tr></thead><tbody>
        {{#rules}}<tr><td class="rule"><a href="/rules/{{id}}">{{id}}</a></td><td>{{source}}</td><td>{{summary}}</td></tr>{{/rules}}
        </tbody></table>
        """

    static let rule = """
        <span class="caption">Rule</span>
        <h1>{{id}}</h1>
        <p class="lead">{{summary}}</p>
        <dl class="summary"><dt>From the procedures</dt><dd>{{#clauses}}{{code}} {{clause}}{{#title}}: {{title}}{{/title}}<br>{{/clauses}}</dd></dl>
        <p><a href="/rules">Every rule</a></p>
        """

    static let ops = """
        <h1>Operations</h1>
        <table><caption>Services</caption><thead><tr><th scope="col">Service</th><th scope="col">State</th><th scope="col">Detail</th></tr></thead><tbody>
        {{#health}}<tr><th scope="row">{{name}}</th><td><strong class="tag {{tag}}">{{state}}</strong></td><td>{{detail}}</td></tr>{{/health}}
        </tbody></table>
        {{#gaugesError}}<div class="panel"><p>{{gaugesError}}</p></div>{{/gaugesError}}
        {{#hasGauges}}<dl class="summary">{{#gauges}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/gauges}}</dl>{{/hasGauges}}
        {{#hasKinds}}<table><caption>Overdue, by rule and task (counts across every case)</caption><thead><tr><th scope="col">Rule</th><th scope="col">Task</th><th scope="col">Owner</th><th scope="col">Overdue</th></tr></thead><tbody>
        {{#kinds}}<tr><td class="rule"><a href="/rules/{{rule}}">{{rule}}</a></td><td>{{task}}</td><td>{{owner}}</td><td>{{count}}</td></tr>{{/kinds}}
        </tbody></table>{{/hasKinds}}
        {{#hasDead}}<table><caption>Given up: for an operator to retry or discard (hsbctl outbox)</caption><thead><tr><th scope="col">Step</th><th scope="col">To</th><th scope="col">Case</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead><tbody>
        {{#dead}}<tr><td>{{stepId}}</td><td>{{service}}</td><td>{{caseId}}</td><td>{{attempts}}</td><td>{{lastError}}</td></tr>{{/dead}}
        </tbody></table>{{/hasDead}}
        """

    static let message = """
        <h1>{{heading}}</h1>
        <p class="lead">{{message}}</p>
        {{#back}}<p><a href="{{back}}">{{backLabel}}</a></p>{{/back}}
        """
}
