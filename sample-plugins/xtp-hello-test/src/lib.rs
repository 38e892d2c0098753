//! `xtp-hello-test`: an xtp-test plugin that tests the `hello` sample. The harness calls its
//! `test` export once; it drives `hello` through `xtp:test/harness` and asserts what it sees:
//! greet (with the mock input when one is given), count_vowels' running total across calls in a
//! group, the total starting over after the group's reset, and timing.

use extism_pdk::{Error, FnResult, Json, plugin_fn};
use serde::Deserialize;

/// What `count_vowels` returns.
#[derive(Deserialize)]
struct VowelCount {
    count: u64,
    total: u64,
}

fn count_vowels(text: &str) -> Result<VowelCount, Error> {
    let Json(count) = xtp_test::call::<Json<VowelCount>>("count_vowels", text)?;
    Ok(count)
}

#[plugin_fn]
pub fn test() -> FnResult<()> {
    // The mock input names who to greet (`--mock-input-data Ada`); "World" when none is given.
    let name = xtp_test::mock_input::<String>().unwrap_or_else(|| "World".to_string());
    let greeting: String = xtp_test::call("greet", name.as_str())?;
    xtp_test::assert_eq("greets the mock input", greeting, format!("Hello, {name}!"));

    xtp_test::group("count_vowels keeps a running total", || {
        let first = count_vowels("hello world")?;
        xtp_test::assert_eq("counts the vowels of hello world", first.count, 3);
        xtp_test::assert_eq("the first total is the first count", first.total, 3);
        let second = count_vowels("aaa")?;
        xtp_test::assert_eq("the second total adds the second count", second.total, 6);
        Ok(())
    })?;
    // The group ended with a reset: a fresh instance, whose total starts over.
    let after = count_vowels("a")?;
    xtp_test::assert_eq("reset clears the running total", after.total, 1);

    xtp_test::group("greet", || {
        let unicode: String = xtp_test::call("greet", "Zoë")?;
        xtp_test::assert_eq("keeps UTF-8", unicode, "Hello, Zoë!".to_string());
        let empty: String = xtp_test::call("greet", "")?;
        xtp_test::assert_eq("greets an empty name", empty, "Hello, !".to_string());
        let ns = xtp_test::time_ns("greet", "Bob")?;
        xtp_test::assert_gt("takes measurable time", ns, 0u64);
        xtp_test::assert_lt("answers within a second", ns, 1_000_000_000u64);
        Ok(())
    })?;
    Ok(())
}
