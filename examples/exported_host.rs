//! Calls `kv_roundtrip` of host-demo.wasm with the manifest, options and input of an
//! extism-playground session. Cargo.toml: extism = "~1.30"

use std::collections::BTreeMap;

use extism::{Manifest, PTR, PluginBuilder, UserData, Wasm, host_fn};

// Secrets come from the environment: get_secret("api_key") reads SECRET_API_KEY.
host_fn!(get_secret(name: String) -> String {
    let var = format!("SECRET_{}", name.to_uppercase());
    std::env::var(&var).map_err(|_| extism::Error::msg(format!("secret {name:?} is not set; set {var}")))
});

host_fn!(kv_get(kv: BTreeMap<String, String>; key: String) -> String {
    let kv = kv.get()?;
    let kv = kv.lock().map_err(|_| extism::Error::msg("kv store poisoned"))?;
    Ok(kv.get(&key).cloned().unwrap_or_default())
});

host_fn!(kv_set(kv: BTreeMap<String, String>; key: String, value: String) {
    let kv = kv.get()?;
    kv.lock().map_err(|_| extism::Error::msg("kv store poisoned"))?.insert(key, value);
    Ok(())
});

host_fn!(log_info(message: String) {
    println!("[host log_info] {message}");
    Ok(())
});

fn main() -> Result<(), extism::Error> {
    let manifest = Manifest::new([Wasm::file("assets/samples/host-demo.wasm")
        .with_hash("fa0b712927ee0427b0bc7c46f9911dcb9acb85a5a11ab18e4daeb4a3a3e30b0e")])
    .with_allowed_host("api.example.com")
    .with_allowed_path("ro:/tmp".to_string(), "/data")
    .with_config_key("vowels", "aeiou")
    .with_memory_max(64)
    .with_timeout(std::time::Duration::from_secs(1));
    let mut manifest = manifest;
    manifest.memory.max_http_response_bytes = Some(65536);
    manifest.memory.max_var_bytes = Some(1024);
    let kv = UserData::new(BTreeMap::from([(
        "greeting".to_string(),
        "hello".to_string(),
    )]));
    let mut plugin = PluginBuilder::new(manifest)
        .with_wasi(true)
        .with_fuel_limit(100_000_000)
        .with_function("get_secret", [PTR], [PTR], UserData::new(()), get_secret)
        .with_function("kv_get", [PTR], [PTR], kv.clone(), kv_get)
        .with_function("kv_set", [PTR, PTR], [], kv.clone(), kv_set)
        .with_function("log_info", [PTR], [], UserData::new(()), log_info)
        .build()?;
    let input: &[u8] = "{\"key\": \"greeting\", \"value\": \"hi \\\"there\\\"\"}".as_bytes();
    let output = plugin.call::<&[u8], &[u8]>("kv_roundtrip", input)?;
    println!("{}", String::from_utf8_lossy(output));
    Ok(())
}
