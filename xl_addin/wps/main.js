// The WPS add-in's entry (index.html loads it): the ribbon callbacks ribbon.xml names (ribbon.OnAddinLoad,
// ribbon.OnAction), and the status line of the page. Everything else is in client.ts.
import { ACTIONS } from "./actions.js";
import { click, submit, text, tokenFromPath } from "./client.js";
function host() {
    return window;
}
function env(app) {
    return {
        app,
        origin: window.location.origin,
        fetch: (url, init) => window.fetch(url, { ...init, credentials: "omit", redirect: "error", cache: "no-store" }),
        ui: {
            alert: (t) => window.alert(ACTIONS.title + "\n\n" + t),
            confirm: (t) => window.confirm(t),
            prompt: (t) => window.prompt(t),
            open: (url) => app.OAAssist.ShellExecute(url),
        },
        storage: {
            get: (k) => window.localStorage.getItem(k),
            set: (k, v) => window.localStorage.setItem(k, v),
            remove: (k) => window.localStorage.removeItem(k),
        },
        installed: tokenFromPath(window.location.pathname),
        readFile: (path) => {
            try {
                return app.FileSystem.ReadFileAsArrayBuffer(path);
            }
            catch {
                return null;
            }
        },
    };
}
/** the control id of ribbon.xml -> its endpoint ("submit" for 提交) */
export function endpointOf(id) {
    const b = ACTIONS.ribbon.find((r) => r.id === id);
    return b ? b.endpoint : null;
}
export async function onButton(id) {
    const app = host().Application;
    if (!app) {
        window.alert(text("no_wps"));
        return;
    }
    const endpoint = endpointOf(id);
    if (endpoint === "submit")
        await submit(env(app));
    else if (endpoint)
        await click(env(app), endpoint);
}
/** The page's status line: whether the county server answers (GET /xl_addin/health, no token). */
export async function checkServer(out) {
    const origin = window.location.origin;
    try {
        const r = await window.fetch(origin + ACTIONS.prefix + "/health", { cache: "no-store" });
        if (r.status !== 200)
            throw new Error(String(r.status));
        out.textContent = text("server_up", { origin });
        out.className = "ok";
        return true;
    }
    catch {
        out.textContent = text("server_down", { origin });
        out.className = "down";
        return false;
    }
}
const ribbon = {
    OnAddinLoad() {
        return true;
    },
    OnAction(control) {
        void onButton(control.Id);
    },
};
host().ribbon = ribbon;
function page() {
    const list = document.getElementById("buttons");
    if (list) {
        for (const b of ACTIONS.ribbon) {
            const btn = document.createElement("button");
            btn.type = "button";
            btn.textContent = b.label;
            btn.addEventListener("click", () => void onButton(b.id));
            list.appendChild(btn);
        }
    }
    const status = document.getElementById("status");
    const again = document.getElementById("check");
    if (status) {
        void checkServer(status);
        again === null || again === void 0 ? void 0 : again.addEventListener("click", () => void checkServer(status));
    }
}
if (typeof document !== "undefined") {
    if (document.readyState === "loading")
        document.addEventListener("DOMContentLoaded", page);
    else
        page();
}
