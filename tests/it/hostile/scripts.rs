//! Code the app runs on a plugin's behalf is bounded like the plugin: a Rhai host function is
//! held to bytes however it holds them (kv entries, log and print lines, strings in a map,
//! strings captured by closures), never blocks (`sleep`), and a panic anywhere in the worker
//! (a host function, a call, a load) ends it with an error that says so, never a hang. Each
//! case runs `tenant-app`'s `greet_user` with `get_user` scripted, under a memory limit.

use std::time::Duration;

use super::{Case, MIB, greet_user, run, s};
use crate::common;

/// `call tenant-app greet_user` with `get_user` defined by `script` (and `audit` a no-op).
fn greet_with(script: &str) -> (tempfile::TempDir, Case) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("get_user.rhai");
    std::fs::write(&file, script).unwrap();
    let case = greet_user(&format!("rhai:{}", s(&file)), &[])
        .memory(1536 * MIB)
        .within(Duration::from_mins(1));
    (dir, case)
}

const USER: &str = r#""{\"id\":\"u-42\",\"name\":\"Ada\",\"plan\":\"pro\"}""#;
const FAILED: &str = "host function acme:tenant::get_user failed: its Rhai script failed";

#[test]
fn a_script_filling_the_kv_store_is_refused_at_its_limit() {
    let (_dir, case) = greet_with(&format!(
        r#"fn get_user(id) {{
             let b = blob(4000000, 1);
             for i in 0..1000 {{ kv_set("k" + i, b); }}
             {USER}
           }}"#
    ));
    let Some(ran) = run(&case) else { return };
    ran.expect(
        1,
        &[
            FAILED,
            "would make the kv store",
            "it holds at most 256 MiB",
        ],
    );
}

#[test]
fn a_script_holding_too_much_is_ended_however_it_holds_it() {
    // Each way holds values Rhai's own limits (16 MiB a string, 4 Mi entries a container)
    // let through, one at a time: only the byte budget ends them.
    let holders = [
        (
            "strings captured by closures",
            "",
            r#"let fs = []; for i in 0..1000 { let s = "z"; s.pad(8000000, "z"); fs.push(|| s.len()); }"#,
        ),
        (
            "strings on a deep call stack",
            r#"fn hold(n) { let s = "r"; s.pad(15000000, "r"); if n > 0 { hold(n - 1) + s.len() } else { s.len() } }"#,
            "hold(60);",
        ),
        (
            "many variables",
            "",
            r#"let a = "a"; a.pad(15000000, "a"); let b = a + "b"; let c = b + "c"; let d = c + "d";
               let e = d + "e"; let f = e + "f"; let g = f + "g"; let h = g + "h"; let i = h + "i";
               let j = i + "j"; let k = j + "k"; let l = k + "l"; let m = l + "m"; let n = m + "n";
               let o = n + "o"; let p = o + "p"; let q = p + "q"; let r = q + "r"; let t = r + "t";
               let u = t + "u"; let v = u + "v"; let w = v + "w"; let x = w + "x"; let y = x + "y";
               let z = y + "z"; let aa = z + "a"; let ab = aa + "b"; let ac = ab + "c"; let ad = ac + "d";
               let ae = ad + "e"; let af = ae + "f"; let ag = af + "g"; let ah = ag + "h"; let ai = ah + "i";
               let aj = ai + "j"; let ak = aj + "k"; let al = ak + "l"; let am = al + "m"; let an = am + "n";"#,
        ),
    ];
    for (name, prelude, body) in holders {
        let (_dir, case) = greet_with(&format!("{prelude}\nfn get_user(id) {{ {body} {USER} }}"));
        let Some(ran) = run(&case) else { return };
        assert_eq!(ran.code, Some(1), "{name}: {ran:#?}");
        assert!(ran.stderr.contains(FAILED), "{name}: {ran:#?}");
        assert!(
            ran.stderr
                .contains("the script held more than 512 MiB at once (its limit) and was ended"),
            "{name}: {ran:#?}"
        );
    }
}

#[test]
fn logging_and_printing_huge_strings_keeps_a_bounded_log() {
    let (_dir, case) = greet_with(&format!(
        r#"fn get_user(id) {{
             let s = "x"; s.pad(16000000, "x");
             for i in 0..200 {{ print(s); log(s); }}
             {USER}
           }}"#
    ));
    let Some(ran) = run(&case) else { return };
    ran.expect(
        0,
        &["more lines not kept: a script call logs at most 4 MiB"],
    );
    assert_eq!(ran.stdout, "Hello, Ada! You are on the pro plan.");
    // Each line is cut, and the log as a whole is bounded.
    assert!((ran.stderr.len() as u64) < 8 * MIB, "{}", ran.stderr.len());
}

#[test]
fn sleep_is_refused_at_once() {
    for call in ["sleep(1e300)", "sleep(3600)", "sleep(0.5)"] {
        let (_dir, case) = greet_with(&format!("fn get_user(id) {{ {call}; {USER} }}"));
        let Some(ran) = run(&case.within(Duration::from_secs(20))) else {
            return;
        };
        ran.expect(
            1,
            &[FAILED, "sleep is not available to host function scripts"],
        );
    }
}

#[test]
fn a_panic_in_the_worker_ends_the_call_with_an_error_never_a_hang() {
    let hello = s(&common::sample("hello"));
    let (_dir, case) = greet_with(&format!("fn get_user(id) {{ {USER} }}"));
    let cases = [
        (
            case.env(
                extism_playground::runner::worker::FAULT_ENV,
                "host-function",
            ),
            1,
            "host function acme:tenant::get_user failed: it panicked (a fault was injected at host-function",
        ),
        (
            Case::new(&["call", &hello, "count_vowels", "-i", "aeiou"])
                .env(extism_playground::runner::worker::FAULT_ENV, "call"),
            1,
            "the worker failed: it panicked (a fault was injected at call",
        ),
        (
            Case::new(&["call", &hello, "count_vowels", "-i", "aeiou"])
                .env(extism_playground::runner::worker::FAULT_ENV, "load"),
            2,
            "the worker failed: it panicked (a fault was injected at load",
        ),
    ];
    for (case, code, says) in cases {
        let Some(ran) = run(&case.within(Duration::from_secs(30))) else {
            return;
        };
        ran.expect(code, &[says, "this is a bug of the app"]);
    }
    // The kind is named in the JSON report.
    let Some(ran) = run(
        &Case::new(&["call", &hello, "count_vowels", "-i", "aeiou", "--json"])
            .env(extism_playground::runner::worker::FAULT_ENV, "call"),
    ) else {
        return;
    };
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("a JSON report");
    assert_eq!(report["error"]["kind"], "internal", "{ran:#?}");
}
