/// The workspace's own stylesheet, after the GOV.UK Design System's patterns (its type scale,
/// focus state, error summary and tables), written for this project. Served at /assets/workspace.css.
enum Stylesheet {
    static let css = """
        *,*::before,*::after{box-sizing:border-box}
        html{font-family:Arial,Helvetica,sans-serif;font-size:19px;line-height:1.32;color:#0b0c0c;background:#f3f2f1}
        body{margin:0;background:#fff}
        a{color:#1d70b8;text-decoration:underline;text-decoration-thickness:max(1px,.0625rem);text-underline-offset:.1578em}
        a:visited{color:#4c2c92}
        a:hover{color:#003078;text-decoration-thickness:max(3px,.1875rem)}
        a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid transparent;color:#0b0c0c;background-color:#fd0;box-shadow:0 -2px #fd0,0 4px #0b0c0c;text-decoration:none}
        input:focus,select:focus,textarea:focus{background-color:#fff;outline:3px solid #fd0;outline-offset:0;box-shadow:inset 0 0 0 2px}
        .skip-link{position:absolute;left:-9999px;top:0;padding:10px 15px;background:#fd0;color:#0b0c0c}
        .skip-link:focus{left:0;z-index:10}
        .width{max-width:1100px;margin:0 auto;padding:0 20px}
        .header{background:#0b0c0c;color:#fff;border-bottom:10px solid #1d70b8;padding:10px 0}
        .header .width{display:flex;flex-wrap:wrap;align-items:center;gap:10px 30px}
        .header a,.header a:visited{color:#fff;text-decoration:none}
        .header a:focus{color:#0b0c0c}
        .header-name{font-weight:700;font-size:1.25rem}
        .nav{list-style:none;margin:0;padding:0;display:flex;gap:20px;flex-wrap:wrap}
        .nav a[aria-current=page]{border-bottom:4px solid #1d70b8}
        .who{margin-left:auto;font-size:.85rem}
        .inline{display:inline}
        .link-button{background:none;border:0;padding:0;color:#fff;text-decoration:underline;font:inherit;cursor:pointer}
        .link-button:focus{color:#0b0c0c}
        .main{padding-top:30px;padding-bottom:40px;min-height:60vh}
        .main:focus{outline:none}
        .footer{background:#f3f2f1;border-top:1px solid #b1b4b6;padding:25px 0;font-size:.85rem}
        h1{font-size:2rem;line-height:1.1;margin:0 0 25px}
        h2{font-size:1.45rem;margin:35px 0 15px}
        h3{font-size:1.1rem;margin:25px 0 10px}
        .caption{color:#505a5f;font-size:1.1rem;display:block;margin-bottom:5px}
        .lead{font-size:1.2rem}
        .hint{color:#505a5f;margin-bottom:10px}
        .visually-hidden{position:absolute!important;width:1px!important;height:1px!important;margin:0!important;padding:0!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important;border:0!important}
        .form-group{margin-bottom:25px}
        .form-group-error{border-left:5px solid #d4351c;padding-left:15px}
        .label{display:block;font-weight:700;margin-bottom:5px}
        .input,.select,.textarea{font:inherit;border:2px solid #0b0c0c;padding:5px;min-height:40px;width:100%;max-width:30em;border-radius:0;background:#fff}
        .date-input{display:flex;gap:20px;flex-wrap:wrap}
        .date-label{display:block;margin-bottom:5px}
        .input-2{width:2.8em}
        .input-4{width:4.6em}
        td input[type=checkbox]{width:28px;height:28px;margin:0;accent-color:#0b0c0c}
        .input-number{max-width:6em}
        .textarea{min-height:6em}
        .form-group-error .input,.form-group-error .select,.form-group-error .textarea{border-color:#d4351c}
        .error-message{color:#d4351c;font-weight:700;margin:0 0 10px}
        .checkbox{display:flex;align-items:flex-start;gap:10px;margin-bottom:10px}
        .checkbox input{width:28px;height:28px;margin:0;flex:none;accent-color:#0b0c0c}
        .checkbox label{padding-top:2px}
        fieldset{border:0;margin:0 0 20px;padding:0;min-width:0}
        legend{font-weight:700;font-size:1.45rem;margin-bottom:10px;padding:0}
        legend.small{font-size:1rem}
        .button{font:inherit;font-weight:400;background:#00703c;color:#fff;border:2px solid transparent;box-shadow:0 2px 0 #002d18;padding:8px 14px;cursor:pointer;margin:0 15px 15px 0;display:inline-block;text-decoration:none}
        .button:hover{background:#005a30}
        .button:focus{background:#fd0;color:#0b0c0c;box-shadow:0 2px 0 #0b0c0c;outline:3px solid transparent}
        .button-secondary{background:#f3f2f1;color:#0b0c0c;box-shadow:0 2px 0 #929191}
        .button-secondary:hover{background:#dbdad9}
        .button-small{font-size:.85rem;padding:4px 8px;margin:8px 0 0}
        .task-done{display:block}
        .filters .button-secondary,.panel .button-secondary{background:#fff}
        .error-summary{border:5px solid #d4351c;padding:20px;margin-bottom:30px}
        .error-summary h2{margin-top:0}
        .error-summary a{color:#d4351c;font-weight:700}
        .banner{border:5px solid #1d70b8;padding:15px 20px;margin-bottom:30px}
        .banner-success{border-color:#00703c}
        .panel{background:#f3f2f1;padding:15px 20px;margin-bottom:25px}
        table{border-collapse:collapse;width:100%;margin-bottom:30px}
        caption{text-align:left;font-weight:700;font-size:1.2rem;margin-bottom:10px}
        th,td{text-align:left;vertical-align:top;padding:10px 20px 10px 0;border-bottom:1px solid #b1b4b6}
        th{font-weight:700}
        .tag{display:inline-block;padding:2px 8px;font-weight:700;font-size:.85rem;letter-spacing:.02em;text-transform:uppercase;background:#d2e2f1;color:#0c2d4a}
        .tag-red{background:#f4cdc6;color:#2a0b06}
        .tag-amber{background:#fcd6c3;color:#2e1104}
        .tag-green{background:#cce2d8;color:#005a30}
        .tag-grey{background:#e5e6e7;color:#0b0c0c}
        .summary{margin:0 0 30px;display:grid;grid-template-columns:minmax(10em,30%) 1fr}
        .summary dt,.summary dd{margin:0;padding:10px 20px 10px 0;border-bottom:1px solid #b1b4b6}
        .summary dt{font-weight:700}
        .list{padding-left:20px;margin-top:0}
        .list li{margin-bottom:8px}
        .rule{white-space:nowrap}
        .filters{display:flex;gap:20px;flex-wrap:wrap;align-items:flex-end;background:#f3f2f1;padding:15px 20px;margin-bottom:30px}
        .filters .form-group{margin:0}
        .filters .select{width:auto}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(15em,1fr));gap:0 30px}
        .muted{color:#505a5f}
        @media print{.header,.footer,.skip-link,.button{display:none}}
        """
}
