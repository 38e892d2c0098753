//! The window under big and busy calls, measured on the real `App` (`egui_kittest` frames: the
//! egui pass, without the GPU): the worst and 95th-percentile frame time and the app process's
//! extra peak memory while 64 MiB goes in and 64 MiB comes out, and while 100 000 log lines
//! arrive. Then the cold start of the real binary under Xvfb (skipped when Xvfb is missing).
//!
//! Run with `cargo bench --bench ui`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use extism_playground::app::{App, AppOptions};
use extism_playground::runner::WorkerConfig;

const BIN: &str = env!("CARGO_BIN_EXE_extism-playground");
const MIB: usize = 1024 * 1024;

/// Resident memory of this process, and its peak since the last reset, in MiB.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Starts a new peak-memory measurement (Linux: writing 5 to `clear_refs` resets `VmHWM`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Frames(Vec<Duration>);

impl Frames {
    fn step(&mut self, h: &mut Harness<'_, App>) {
        let started = Instant::now();
        h.step();
        self.0.push(started.elapsed());
    }

    fn summary(&self) -> (f64, f64, usize) {
        let mut ms: Vec<f64> = self.0.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        #[expect(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let p95 = ms[((ms.len() as f64 * 0.95) as usize).min(ms.len() - 1)];
        (ms[ms.len() - 1], p95, ms.len())
    }
}

fn harness() -> Harness<'static, App> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(|cc| App::new(cc, AppOptions::new(WorkerConfig::with_exe(BIN))))
}

/// Steps frames until the call ends, then `after` more frames.
fn frames_through_call(h: &mut Harness<'_, App>, frames: &mut Frames, after: usize) {
    let deadline = Instant::now() + Duration::from_mins(2);
    for _ in 0..3 {
        frames.step(h);
    }
    while h.state().is_running() {
        assert!(Instant::now() < deadline, "the call did not finish");
        frames.step(h);
        std::thread::sleep(Duration::from_millis(4));
    }
    for _ in 0..after {
        frames.step(h);
    }
}

fn report(name: &str, frames: &Frames, extra: Option<(f64, f64)>) {
    let (worst, p95, n) = frames.summary();
    let memory = extra.map_or_else(String::new, |(peak, payload)| {
        format!(
            ", peak memory for it {peak:.0} MiB = {:.2}x the {payload:.0} MiB payload",
            peak / payload
        )
    });
    println!("{name}: {n} frames, worst {worst:.1} ms, p95 {p95:.1} ms{memory}");
}

fn big_payload() {
    let mut h = harness();
    h.run();
    h.get_by_label("echo").click();
    h.run();
    // Everything from here on counts: the input itself, the copies, the output, the views.
    let (rss_before, _) = memory_mib();
    reset_peak();
    // 64 MiB of 64-byte lines: 1 048 576 lines for the text view.
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_\n";
    let input: Vec<u8> = line.iter().copied().cycle().take(64 * MIB).collect();
    h.state_mut()
        .workbench_mut()
        .set_large_input("64MiB.txt", input);
    let mut frames = Frames(Vec::new());
    h.get_by_role_and_label(Role::Button, "▶ Run").click();
    frames_through_call(&mut h, &mut frames, 5);
    let report_ok = h
        .state()
        .last_report()
        .is_some_and(|r| r.is_ok() && r.output.len() == 64 * MIB);
    assert!(
        report_ok,
        "echo of 64 MiB failed: {:?}",
        h.state().last_report().map(|r| &r.error)
    );
    // Look at the output every way the window shows it.
    for tab in ["Hex", "Text"] {
        h.get_by_label(tab).click();
        for _ in 0..5 {
            frames.step(&mut h);
        }
    }
    let (_, peak) = memory_mib();
    report(
        "64 MiB in, 64 MiB out (hello echo)",
        &frames,
        Some((peak - rss_before, 64.0)),
    );
}

fn log_flood() {
    let mut h = harness();
    h.run();
    h.get_by_label("Samples").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "chaos").click();
    h.run();
    h.get_by_label("log_flood").click();
    h.run();
    let mut frames = Frames(Vec::new());
    h.get_by_role_and_label(Role::Button, "▶ Run").click();
    frames_through_call(&mut h, &mut frames, 3);
    let logs = h.state().last_report().map_or(0, |r| r.logs.len());
    assert_eq!(logs, 100_000, "every line arrives");
    h.get_by_label("Logs (100000)").click();
    for _ in 0..5 {
        frames.step(&mut h);
    }
    // Filter the table, as a person hunting one line would.
    h.get_by_role_and_label(Role::TextInput, "Filter").click();
    frames.step(&mut h);
    h.get_by_role_and_label(Role::TextInput, "Filter")
        .type_text("line 99999");
    for _ in 0..5 {
        frames.step(&mut h);
    }
    report(
        "100 000 log lines (chaos log_flood), table shown and filtered",
        &frames,
        None,
    );
}

fn cold_start() {
    let has_xvfb = std::process::Command::new("sh")
        .args(["-c", "command -v Xvfb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_xvfb {
        println!("cold start: skipped (no Xvfb; apt-get install xvfb libgl1-mesa-dri)");
        return;
    }
    let display = format!(":{}", 700 + std::process::id() % 200);
    let mut xvfb = std::process::Command::new("Xvfb")
        .args([
            display.as_str(),
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    std::thread::sleep(Duration::from_secs(1));
    let home = std::env::temp_dir().join(format!("playground-cold-start-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&home);
    let mut first_frame = Vec::new();
    let mut wall = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let out = std::process::Command::new(BIN)
            .env("DISPLAY", &display)
            .env("HOME", &home)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("EXTISM_PLAYGROUND_EXIT_AFTER_FIRST_FRAME", "1")
            .output()
            .expect("the app runs");
        wall.push(started.elapsed().as_secs_f64() * 1000.0);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if let Some(ms) = stderr.lines().find_map(|l| {
            l.strip_prefix("first frame ")
                .and_then(|r| r.split(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
        }) {
            first_frame.push(ms);
        }
    }
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    let _ = std::fs::remove_dir_all(&home);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    println!(
        "cold start: first frame {:.0} ms after main (median of {}), process start to exit after that frame {:.0} ms",
        median(&mut first_frame),
        first_frame.len(),
        median(&mut wall)
    );
}

/// How long Stop takes to end a call: a spinning plugin (extism's cancel) and one stuck inside
/// a host call (an HTTP request to a server that never answers: the worker is killed).
fn stop_latency() {
    use extism_playground::runner::{CallRequest, LoadedPlugin, Phase, SandboxOptions, Session};
    let sample = |name: &str| {
        LoadedPlugin::from_path(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("assets/samples/{name}.wasm")),
        )
        .expect("sample")
        .0
    };
    let measure = |session: &Session, function: &str, input: &str| -> f64 {
        let handle = session.call(CallRequest {
            function: function.to_string(),
            input: input.as_bytes().to_vec().into(),
            ..CallRequest::default()
        });
        // Stop once the plugin runs (and, for the stuck case, has had time to send its
        // request and wait for the answer).
        while handle.phase() != Phase::Calling {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        handle.cancel();
        let report = handle.block_and_take();
        assert!(report.error.is_some(), "the call was stopped");
        started.elapsed().as_secs_f64() * 1000.0
    };
    let spin = Session::new(
        sample("chaos"),
        SandboxOptions::default(),
        WorkerConfig::with_exe(BIN),
    )
    .expect("session");
    let mut spins: Vec<f64> = (0..5).map(|_| measure(&spin, "spin", "")).collect();
    let mut stuck = Vec::new();
    for _ in 0..5 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let options = SandboxOptions {
            allowed_hosts: vec!["127.0.0.1".into()],
            ..SandboxOptions::default()
        };
        let http = Session::new(sample("http-demo"), options, WorkerConfig::with_exe(BIN))
            .expect("session");
        stuck.push(measure(&http, "http_get", &url));
        drop(listener);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (spin_median, spin_max) = median(&mut spins);
    let (stuck_median, stuck_max) = median(&mut stuck);
    println!(
        "stop: spinning plugin {spin_median:.1} ms median ({spin_max:.1} max); stuck in a host call {stuck_median:.1} ms median ({stuck_max:.1} max)"
    );
}

/// A JSON document of about `bytes`: an array of small records.
fn json_of(bytes: usize) -> String {
    let mut text = String::from("[\n");
    let mut i = 0;
    while text.len() < bytes {
        let _ = writeln!(
            text,
            "  {{\"id\": {i}, \"name\": \"item {i}\", \"price\": {}.5, \"tags\": [\"a\", \"b\"], \"ok\": true, \"next\": null}},",
            i * 3
        );
        i += 1;
    }
    text.push_str("  {}\n]");
    text
}

/// The hand-written JSON highlighter against syntect's JSON grammar (as the code views use
/// it), each computing a layout it has not seen (no memo), median of 5.
fn json_highlighters() {
    use extism_playground::app::bench_support::{json_by_hand, json_by_syntect};
    let ctx = egui::Context::default();
    for size in [16 * 1024, 256 * 1024, MIB] {
        let text = json_of(size);
        let median = |f: &dyn Fn(&str) -> usize| {
            let mut ms: Vec<f64> = (0..5)
                .map(|n| {
                    // A different text each time, so no cache answers.
                    let text = format!("{text}{}", " ".repeat(n + 1));
                    let started = Instant::now();
                    let sections = f(&text);
                    assert!(sections > 10, "highlighted");
                    started.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            ms.sort_by(f64::total_cmp);
            ms[2]
        };
        let by_hand = median(&|t| json_by_hand(t).sections.len());
        let by_syntect = median(&|t| json_by_syntect(&ctx, t).sections.len());
        println!(
            "JSON highlighting, {} KiB: hand-written {by_hand:.2} ms, syntect {by_syntect:.2} ms ({:.0}x)",
            text.len() / 1024,
            by_syntect / by_hand
        );
    }
}

fn main() {
    // `cargo test` runs bench targets with no arguments only when asked; `cargo bench` passes
    // --bench. Either way, this measures.
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        std::env::consts::ARCH
    );
    json_highlighters();
    big_payload();
    log_flood();
    stop_latency();
    cold_start();
}
