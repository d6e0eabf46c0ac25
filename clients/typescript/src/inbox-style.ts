// inbox-style.ts - the shadow-DOM stylesheet of <herald-inbox>. Every colour, radius, size and
// font is a CSS custom property (--herald-*) that a page may set on the element; theme="dark"
// (or theme="auto" with a dark system preference) switches the defaults.
export const INBOX_CSS = `
:host{--herald-font:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--herald-bg:#fff;--herald-fg:#1b1f24;
--herald-muted:#59636e;--herald-border:#d1d9e0;--herald-accent:#0969da;--herald-accent-fg:#fff;--herald-unread-bg:#ddf4ff;
--herald-badge-bg:#cf222e;--herald-badge-fg:#fff;--herald-hover:#f6f8fa;--herald-focus:#0969da;--herald-radius:10px;
--herald-panel-width:380px;--herald-panel-height:480px;--herald-shadow:0 8px 24px rgba(31,35,40,.2);
display:inline-block;position:relative;font:14px/1.4 var(--herald-font);color:var(--herald-fg)}
:host([theme=dark]){--herald-bg:#0d1117;--herald-fg:#e6edf3;--herald-muted:#9198a1;--herald-border:#3d444d;--herald-accent:#4493f8;
--herald-accent-fg:#0d1117;--herald-unread-bg:#1a2c45;--herald-hover:#151b23;--herald-focus:#4493f8;--herald-shadow:0 8px 24px rgba(0,0,0,.6)}
@media (prefers-color-scheme:dark){:host([theme=auto]){--herald-bg:#0d1117;--herald-fg:#e6edf3;--herald-muted:#9198a1;--herald-border:#3d444d;
--herald-accent:#4493f8;--herald-accent-fg:#0d1117;--herald-unread-bg:#1a2c45;--herald-hover:#151b23;--herald-focus:#4493f8}}
*{box-sizing:border-box}
button{font:inherit;color:inherit;background:none;border:1px solid transparent;border-radius:6px;padding:4px 8px;cursor:pointer}
button:hover{background:var(--herald-hover)}
:focus-visible{outline:2px solid var(--herald-focus);outline-offset:2px}
.bell{position:relative;padding:6px;border-radius:50%;line-height:0;color:var(--herald-fg)}
.bell svg{width:24px;height:24px}
.badge{position:absolute;top:-3px;right:-6px;min-width:18px;height:18px;padding:0 5px;border-radius:9px;background:var(--herald-badge-bg);
color:var(--herald-badge-fg);font-size:11px;font-weight:700;line-height:18px;text-align:center;transition:transform .2s}
.badge.bump{transform:scale(1.3)}
[hidden]{display:none!important}
.panel{position:absolute;right:0;top:calc(100% + 6px);z-index:1000;width:var(--herald-panel-width);max-width:calc(100vw - 16px);
height:var(--herald-panel-height);display:flex;flex-direction:column;background:var(--herald-bg);color:var(--herald-fg);
border:1px solid var(--herald-border);border-radius:var(--herald-radius);box-shadow:var(--herald-shadow);overflow:hidden;
transition:opacity .15s,transform .15s}
.panel:focus{outline:none}
header{display:flex;align-items:center;gap:4px;padding:8px 8px 8px 14px;border-bottom:1px solid var(--herald-border)}
h2{flex:1;margin:0;font-size:15px}
.actions button{font-size:12px;color:var(--herald-accent)}
.status{padding:4px 14px;font-size:12px;color:var(--herald-muted)}
.status:empty{display:none}
.body{flex:1;overflow-y:auto;overscroll-behavior:contain}
.feed{margin:0;padding:0}
article{display:grid;grid-template-columns:1fr auto;gap:2px 8px;padding:10px 14px;border-bottom:1px solid var(--herald-border)}
article.unread{background:var(--herald-unread-bg)}
article:focus-visible{outline-offset:-2px}
.t{font-weight:600;margin:0;font-size:14px;overflow-wrap:anywhere}
.t a{color:inherit}
article.unread .t::before{content:"";display:inline-block;width:8px;height:8px;margin-right:6px;border-radius:50%;background:var(--herald-accent)}
.b{grid-column:1;margin:0;color:var(--herald-fg);overflow-wrap:anywhere}
.m{grid-column:1;font-size:12px;color:var(--herald-muted)}
.ia{grid-column:2;grid-row:1/span 3;display:flex;flex-direction:column;gap:2px;align-items:flex-end}
.ia button{font-size:12px;color:var(--herald-muted)}
.empty,.more{padding:24px 14px;text-align:center;color:var(--herald-muted)}
.prefs{padding:10px 14px}
.prefs h3{margin:4px 0;font-size:14px}
.prefs p{margin:0 0 8px;color:var(--herald-muted);font-size:12px}
.prefs ul{list-style:none;margin:0;padding:0}
.prefs li{display:flex;justify-content:space-between;align-items:center;padding:6px 0;border-bottom:1px solid var(--herald-border)}
.prefs input{width:34px;height:18px;accent-color:var(--herald-accent)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (prefers-reduced-motion:reduce){*,.badge,.panel{transition:none!important;animation:none!important}.badge.bump{transform:none}}
`;
