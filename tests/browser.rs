//! The run page (`--html`) opened in a real headless Chromium, driven through chromedriver
//! (WebDriver over HTTP, spoken here with std's TcpStream: no new dependency), checked as a
//! person would check it: lanes and arrows match the trace, zoom narrows the window, a click
//! shows the record, a listed violation jumps to its time. Screenshots go to
//! `$CARGO_TARGET_TMPDIR/browser/` for a reviewer.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! other paths via `ELECTSIM_CHROMIUM` / `ELECTSIM_CHROMEDRIVER`). Without them each test
//! says so and passes, unless `ELECTSIM_BROWSER_TESTS=require` (set by `.ci/run`, which
//! installs them), where a missing browser fails the test.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One browser at a time: the machines this runs on have few cores.
static BROWSER: Mutex<()> = Mutex::new(());

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn tool(env: &str, default: &str) -> Option<PathBuf> {
    let p = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    p.exists().then_some(p)
}

/// A chromedriver process with one headless Chromium session.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
    profile: PathBuf,
}

impl Browser {
    /// Start chromedriver and a session, or `None` (after saying why) when the tools are
    /// missing and not required.
    fn start(name: &str) -> Option<Browser> {
        let (Some(chromium), Some(driver)) = (
            tool("ELECTSIM_CHROMIUM", "/usr/bin/chromium"),
            tool("ELECTSIM_CHROMEDRIVER", "/usr/bin/chromedriver"),
        ) else {
            let why = "chromium/chromedriver not found (apt-get install chromium chromium-driver, or set ELECTSIM_CHROMIUM and ELECTSIM_CHROMEDRIVER)";
            assert!(
                std::env::var("ELECTSIM_BROWSER_TESTS").as_deref() != Ok("require"),
                "{why}"
            );
            eprintln!("skipped: {why}");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = out_dir().join(format!("profile-{name}"));
        let _ = std::fs::remove_dir_all(&profile);
        let mut b = Browser {
            driver: child,
            port,
            session: String::new(),
            profile,
        };
        let t0 = Instant::now();
        while b.call("GET", "/status", None).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1500,900",
        ];
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", b.profile.display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium, "args": args }}}});
        let v = b.call("POST", "/session", Some(caps)).expect("a session");
        b.session = v["sessionId"].as_str().expect("a session id").to_string();
        Some(b)
    }

    /// One WebDriver request; the response's `value`, or the error it reports.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        // Session start and page loads take seconds; a hang fails instead of waiting forever.
        s.set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(|e| e.to_string())?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .map_err(|e| e.to_string())?;
        // chromedriver keeps the connection open: read the head, then Content-Length bytes.
        let mut raw = Vec::new();
        let mut byte = [0u8; 1];
        while !raw.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).map_err(|e| e.to_string())?;
            raw.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&raw).to_string();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .ok_or("no Content-Length")?;
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).map_err(|e| e.to_string())?;
        let json = String::from_utf8_lossy(&body);
        let v: Value = serde_json::from_str(&json).map_err(|e| format!("{e}: {json}"))?;
        if head.starts_with("HTTP/1.1 200") {
            Ok(v["value"].clone())
        } else {
            Err(format!("{head}\n{}", v["value"]))
        }
    }

    fn session(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let p = format!("/session/{}{path}", self.session);
        self.call(method, &p, body)
            .unwrap_or_else(|e| panic!("{method} {p}: {e}"))
    }

    fn open(&self, page: &Path, fragment: &str) {
        let url = format!("file://{}{fragment}", page.display());
        self.session("POST", "/url", Some(json!({ "url": url })));
    }

    /// Run `script` (a function body) in the page and return its value.
    fn js(&self, script: &str) -> Value {
        self.session(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn count(&self, css: &str) -> u64 {
        let q = serde_json::to_string(css).unwrap();
        self.js(&format!("return document.querySelectorAll({q}).length"))
            .as_u64()
            .expect("a count")
    }

    /// Click the first element matching `css`, as a mouse would (at its centre).
    fn click(&self, css: &str) {
        let e = self.session(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        let id = e[ELEMENT].as_str().expect("an element id").to_string();
        self.session("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Press and release one key.
    fn key(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.session("POST", "/actions", Some(actions));
    }

    /// The view window as the address shows it: `#from=..&to=..[&cursor=..]`.
    fn fragment(&self) -> Vec<(String, u64)> {
        let hash = self.js("return location.hash");
        hash.as_str()
            .expect("a hash")
            .trim_start_matches('#')
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.parse().expect("an integer")))
            .collect()
    }

    fn get(&self, key: &str) -> Option<u64> {
        self.fragment()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|kv| kv.1)
    }

    fn detail(&self) -> String {
        self.js("return document.getElementById('detail').textContent")
            .as_str()
            .unwrap()
            .to_string()
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.session("GET", "/screenshot", None);
        let png = decode_base64(b64.as_str().expect("base64"));
        assert_eq!(&png[1..4], b"PNG");
        std::fs::write(out_dir().join(name), png).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=' && c != b'\n').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let v: Vec<u32> = chunk.iter().map(|&c| u32::from(val(c))).collect();
        let n = v.iter().fold(0u32, |acc, &x| acc << 6 | x) << (6 * (4 - v.len()));
        out.extend(&n.to_be_bytes()[1..v.len()]);
    }
    out
}

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run a shipped scenario with `--html` and `--trace`; returns the page, the JSONL
/// records and the JSON report.
fn run_page(scenario: &str, name: &str) -> (PathBuf, Vec<Value>, Value) {
    let dir = out_dir();
    let (html, trace) = (
        dir.join(format!("{name}.html")),
        dir.join(format!("{name}.jsonl")),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_electsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", scenario, "--format", "json", "--html"])
        .arg(&html)
        .arg("--trace")
        .arg(&trace)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("html: ") && stderr.contains(" KiB;"),
        "{stderr}"
    );
    let records = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (html, records, serde_json::from_slice(&out.stdout).unwrap())
}

/// Arrows the trace calls for: one per message end (delivery or drop), one for a message
/// still in flight at the end; and how many of them end in a drop.
fn expected_arrows(records: &[Value]) -> (u64, u64) {
    let mut ends: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut drops = 0;
    for r in records {
        let id = r["msg_id"].as_u64();
        match r["kind"].as_str().unwrap() {
            "send" => {
                ends.insert(id.unwrap(), 0);
            }
            "deliver" | "drop" => {
                *ends.get_mut(&id.unwrap()).unwrap() += 1;
                drops += u64::from(r["kind"] == "drop");
            }
            _ => {}
        }
    }
    (ends.values().map(|&e| e.max(1)).sum(), drops)
}

#[test]
fn lanes_and_arrows_match_the_trace_and_the_page_is_offline() {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let (page, records, report) = run_page("scenarios/k8s-partition.toml", "k8s-partition");
    let text = std::fs::read_to_string(&page).unwrap();
    // Offline: nothing to fetch (the only URL is the SVG namespace name).
    let urls = text.matches("http://").count() + text.matches("https://").count();
    assert_eq!(urls, text.matches("http://www.w3.org/2000/svg").count());
    assert!(!text.contains(" src="));
    let Some(b) = Browser::start("k8s") else {
        return;
    };
    b.open(&page, "");
    // 5 participants and 1 coordination-service replica (node id 5).
    let lanes = 1 + records
        .iter()
        .flat_map(|r| [&r["node"], &r["from"], &r["to"]])
        .filter_map(Value::as_u64)
        .max()
        .unwrap();
    assert_eq!((lanes, report["nodes"].as_u64()), (6, Some(5)));
    assert_eq!(b.count("#diagram .lane"), lanes);
    let label = b.js("return document.querySelectorAll('.lane-label')[5].textContent");
    assert_eq!(label, "service 5");
    let (arrows, drops) = expected_arrows(&records);
    assert_eq!(arrows, report["messages_sent"].as_u64().unwrap());
    assert_eq!(b.count("#arrows .arrow"), arrows);
    assert!(drops > 0);
    assert_eq!(b.count("#arrows .arrow.dropped"), drops);
    assert_eq!(drops, report["messages_dropped"].as_u64().unwrap());
    // The isolation is named under the diagram and its node's lane is shaded.
    let net = b.js("return [...document.querySelectorAll('.net-label')].map(e => e.textContent)");
    assert_eq!(net, json!(["isolate node 1, heal after 30s"]));
    b.screenshot("k8s-partition.png");

    // Filtering out the heartbeat class leaves the other classes' arrows.
    let heartbeats = records
        .iter()
        .filter(|r| r["kind"] == "send" && r["msg_class"] == "heartbeat")
        .count() as u64;
    assert!(heartbeats > 0);
    b.click("input[data-cls='1']");
    assert_eq!(b.count("#arrows .arrow"), arrows - heartbeats);
}

#[test]
fn zoom_narrows_the_window_and_a_click_shows_the_record() {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let (page, records, _) = run_page("scenarios/k8s-partition.toml", "k8s-zoom");
    let Some(b) = Browser::start("zoom") else {
        return;
    };
    b.open(&page, "");
    let end = records.last().unwrap()["time_ns"].as_u64().unwrap();
    assert_eq!((b.get("from"), b.get("to")), (Some(0), Some(end)));
    let all = b.count("#arrows .arrow");
    b.click("#zoom-in");
    // Zoom in halves the window around its centre.
    assert_eq!(
        (b.get("from"), b.get("to")),
        (Some(end / 4), Some(end / 4 + end / 2))
    );
    b.key("+");
    assert_eq!(b.get("to").unwrap() - b.get("from").unwrap(), end / 4);
    let zoomed = b.count("#arrows .arrow");
    assert!(zoomed < all && zoomed > 0, "{zoomed} of {all}");
    b.key("0");
    assert_eq!((b.get("from"), b.get("to")), (Some(0), Some(end)));

    // Clicking an arrow shows the trace record of its delivery: zoomed (through the
    // address) to the first delivery after 1 s, from its send to 5 ms after.
    let r = records
        .iter()
        .position(|x| x["kind"] == "deliver" && x["time_ns"].as_u64().unwrap() > 1_000_000_000)
        .unwrap();
    let sent = records
        .iter()
        .find(|x| x["kind"] == "send" && x["msg_id"] == records[r]["msg_id"])
        .unwrap()["time_ns"]
        .as_u64()
        .unwrap();
    let delivered = records[r]["time_ns"].as_u64().unwrap();
    b.open(
        &page,
        &format!("#from={}&to={}", sent - 5_000_000, delivered + 5_000_000),
    );
    b.click(&format!("#arrows .arrow[data-r='{r}']"));
    let shown: Value = serde_json::from_str(&b.detail()).unwrap();
    assert_eq!(shown, records[r]);
    assert_eq!(shown["kind"], "deliver");
    assert_eq!(b.get("cursor"), shown["time_ns"].as_u64());

    // Next event steps through the records in order from the cursor.
    b.key("n");
    let next: Value = serde_json::from_str(&b.detail()).unwrap();
    assert_eq!(next, records[r + 1]);
    b.key("p");
    b.key("p");
    let prev: Value = serde_json::from_str(&b.detail()).unwrap();
    assert_eq!(prev, records[r - 1]);

    // The address reopens the same view.
    b.open(&page, "#from=1000000000&to=3000000000");
    assert_eq!(
        b.js("return [+diagram.dataset.from, +diagram.dataset.to]"),
        json!([1_000_000_000u64, 3_000_000_000u64])
    );
    b.screenshot("k8s-zoomed.png");
}

#[test]
fn a_split_brain_is_listed_and_clicking_it_jumps_to_its_time() {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let (page, _, report) = run_page("scenarios/raft-partition.toml", "raft-partition");
    let Some(b) = Browser::start("split") else {
        return;
    };
    b.open(&page, "");
    let log = report["split_brain_log"].as_array().unwrap();
    assert_eq!(
        log.len() as u64,
        report["split_brain_incidents"].as_u64().unwrap()
    );
    assert!(!log.is_empty());
    assert_eq!(b.count("#flags a"), log.len() as u64);
    assert_eq!(b.count("#diagram .flag"), log.len() as u64);
    // Partition sides are shaded: two sides, lanes 0-1 and 2-4, for each partition.
    assert!(b.count("#diagram .side[data-side='1']") > 0);
    b.screenshot("raft-partition.png");

    b.click("#flags li:nth-child(2) a");
    let (start, end) = (
        (log[1]["start_ms"].as_f64().unwrap() * 1e6).round() as u64,
        (log[1]["end_ms"].as_f64().unwrap() * 1e6).round() as u64,
    );
    let (from, to, cursor) = (
        b.get("from").unwrap(),
        b.get("to").unwrap(),
        b.get("cursor"),
    );
    assert_eq!(cursor, Some(start));
    assert!(
        from < start && to > end,
        "{from}..{to} must hold {start}..{end}"
    );
    assert!(to - from < report["duration_s"].as_f64().unwrap() as u64 * 1_000_000_000 / 2);
    assert!(b.detail().starts_with("split brain"), "{}", b.detail());
    b.screenshot("raft-split-brain.png");
}
