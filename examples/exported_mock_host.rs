//! Calls `quote` of tenant-app.wasm with the manifest, options and input of an
//! extism-playground session. Cargo.toml: extism = "~1.30"

use extism::{CurrentPlugin, Manifest, PTR, PluginBuilder, UserData, Val, Wasm};

// acme:billing::price_cents(bytes, i32) -> i64
// Returns 1200.
#[allow(clippy::unnecessary_wraps)] // extism's host function signature
fn price_cents(
    _plugin: &mut CurrentPlugin,
    _inputs: &[Val],
    outputs: &mut [Val],
    _user_data: UserData<()>,
) -> Result<(), extism::Error> {
    outputs[0] = Val::I64(1_200);
    Ok(())
}

// acme:tenant::audit(bytes)
// In the playground `audit` of the mock-host plugin mock-host.wasm answers this call; the plugin does not come along.
// The import returns nothing, so this does nothing.
#[allow(clippy::unnecessary_wraps)] // extism's host function signature
fn audit(
    _plugin: &mut CurrentPlugin,
    _inputs: &[Val],
    _outputs: &mut [Val],
    _user_data: UserData<()>,
) -> Result<(), extism::Error> {
    Ok(())
}

// acme:tenant::get_user(bytes) -> bytes
// In the playground a Rhai script answers this call; the script does not come along.
// This returns what it returned in the last run: "{\"id\":\"u-42\",\"name\":\"Ada\",\"plan\":\"pro\"}".
fn get_user(
    plugin: &mut CurrentPlugin,
    _inputs: &[Val],
    outputs: &mut [Val],
    _user_data: UserData<()>,
) -> Result<(), extism::Error> {
    plugin.memory_set_val(
        &mut outputs[0],
        "{\"id\":\"u-42\",\"name\":\"Ada\",\"plan\":\"pro\"}",
    )?;
    Ok(())
}

fn main() -> Result<(), extism::Error> {
    let manifest = Manifest::new([Wasm::file("assets/samples/tenant-app.wasm")
        .with_hash("1589cd623dfb6bc439a4588797d0906ce2c30c06f2a742a655f0c98a194f2593")]);
    let mut plugin = PluginBuilder::new(manifest)
        .with_wasi(false)
        .with_function_in_namespace(
            "acme:billing",
            "price_cents",
            [PTR, extism::ValType::I32],
            [extism::ValType::I64],
            UserData::new(()),
            price_cents,
        )
        .with_function_in_namespace("acme:tenant", "audit", [PTR], [], UserData::new(()), audit)
        .with_function_in_namespace(
            "acme:tenant",
            "get_user",
            [PTR],
            [PTR],
            UserData::new(()),
            get_user,
        )
        .build()?;
    let input: &[u8] = "{\"sku\":\"pro-seat\",\"quantity\":3}".as_bytes();
    let output = plugin.call::<&[u8], &[u8]>("quote", input)?;
    println!("{}", String::from_utf8_lossy(output));
    Ok(())
}
