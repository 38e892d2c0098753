
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'extism-playground' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'extism-playground'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'extism-playground' {
            [CompletionResult]::new('--registry-user', '--registry-user', [CompletionResultType]::ParameterName, 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names')
            [CompletionResult]::new('--registry-host', '--registry-host', [CompletionResultType]::ParameterName, 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable')
            [CompletionResult]::new('--registry-timeout', '--registry-timeout', [CompletionResultType]::ParameterName, 'How long a registry may stay silent (connecting, or between bytes), in seconds')
            [CompletionResult]::new('--max-layer-size', '--max-layer-size', [CompletionResultType]::ParameterName, 'The largest plugin layer pulled, in bytes')
            [CompletionResult]::new('--registry-password-stdin', '--registry-password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password for --registry-user from stdin')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Call a plugin function headless and print its output')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show what a module exports and imports, without running it')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run a saved bundle''s steps and check each against what it expects')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run test suites (.toml), bundles, or folders of them; report for people, scripts or CI')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Publish a plugin to an OCI registry as a CNCF Wasm artifact')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell, e.g. for bash: `extism-playground completions bash > ~/.local/share/bash-completion/completions/extism-playground` (the .deb installs them for bash, zsh and fish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'extism-playground;call' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Input data')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Input data')
            [CompletionResult]::new('--input-file', '--input-file', [CompletionResultType]::ParameterName, 'Read input data from a file')
            [CompletionResult]::new('--allow-host', '--allow-host', [CompletionResultType]::ParameterName, 'Allow HTTP requests to a host (glob, e.g. *.example.com). Repeatable')
            [CompletionResult]::new('--allow-path', '--allow-path', [CompletionResultType]::ParameterName, 'Map a host directory into the guest: [ro:]HOST[:GUEST]. Repeatable')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A config value, KEY=VALUE. Repeatable')
            [CompletionResult]::new('--set-config', '--set-config', [CompletionResultType]::ParameterName, 'Config values as a JSON object')
            [CompletionResult]::new('--memory-max', '--memory-max', [CompletionResultType]::ParameterName, 'Maximum memory, in 64 KiB pages')
            [CompletionResult]::new('--http-response-max', '--http-response-max', [CompletionResultType]::ParameterName, 'Maximum HTTP response size')
            [CompletionResult]::new('--var-max', '--var-max', [CompletionResultType]::ParameterName, 'Maximum size of one Extism var')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout of one call, in milliseconds')
            [CompletionResult]::new('--fuel', '--fuel', [CompletionResultType]::ParameterName, 'Fuel limit of one call')
            [CompletionResult]::new('--loop', '--loop', [CompletionResultType]::ParameterName, 'Call the function N times on the warm instance and report statistics')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Lowest log level shown: trace, debug, info, warn, error')
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'A secret for the `get_secret` host function, NAME=VALUE. Repeatable')
            [CompletionResult]::new('--kv', '--kv', [CompletionResultType]::ParameterName, 'A kv store entry for the `kv_get`/`kv_set` host functions, KEY=VALUE. Repeatable')
            [CompletionResult]::new('--host-fn', '--host-fn', [CompletionResultType]::ParameterName, 'Define a host function the plugin imports: NAME=SPEC. NAME is `name` (in extism:host/user) or `module::name`, optionally with argument and result kinds, e.g. `add(num,num)->num`. SPEC is value:TEXT, bytes:BASE64, template:TEXT (`{0}` is argument 0), kv-get, kv-set, fail:MESSAGE, rhai:FILE or wasm:FILE. Repeatable')
            [CompletionResult]::new('--host-fns', '--host-fns', [CompletionResultType]::ParameterName, 'Host function definitions from a JSON file (the form sessions and bundles store). Repeatable')
            [CompletionResult]::new('--mock-host', '--mock-host', [CompletionResultType]::ParameterName, 'A mock-host plugin: binds every import no other definition satisfies and whose name it exports')
            [CompletionResult]::new('--save-bundle', '--save-bundle', [CompletionResultType]::ParameterName, 'Save the call as a self-contained bundle (plugin embedded, expected output = this output) for `replay`')
            [CompletionResult]::new('--coredump', '--coredump', [CompletionResultType]::ParameterName, 'When the call traps, write wasmtime''s coredump (frames, globals, memory) to FILE. It holds the plugin''s memory, so it may hold secrets')
            [CompletionResult]::new('--allow-redirect', '--allow-redirect', [CompletionResultType]::ParameterName, 'Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the URL''s own (the file''s headers are not sent there); any other redirect stops the download. Repeatable')
            [CompletionResult]::new('--registry-user', '--registry-user', [CompletionResultType]::ParameterName, 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names')
            [CompletionResult]::new('--registry-host', '--registry-host', [CompletionResultType]::ParameterName, 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable')
            [CompletionResult]::new('--registry-timeout', '--registry-timeout', [CompletionResultType]::ParameterName, 'How long a registry may stay silent (connecting, or between bytes), in seconds')
            [CompletionResult]::new('--max-layer-size', '--max-layer-size', [CompletionResultType]::ParameterName, 'The largest plugin layer pulled, in bytes')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read input data from stdin')
            [CompletionResult]::new('--wasi', '--wasi', [CompletionResultType]::ParameterName, 'Enable WASI')
            [CompletionResult]::new('--fast-compile', '--fast-compile', [CompletionResultType]::ParameterName, 'Compile fast (Cranelift unoptimized, single-pass register allocation): about half the compile time of a large plugin, slower calls')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON report on stdout instead of the raw output')
            [CompletionResult]::new('--bundle-coredump', '--bundle-coredump', [CompletionResultType]::ParameterName, 'With --save-bundle: embed the trap''s coredump in the bundle (it holds the plugin''s memory, so it may hold secrets)')
            [CompletionResult]::new('--find-limits', '--find-limits', [CompletionResultType]::ParameterName, 'Find the smallest memory pages and fuel with which the call gives the same outcome, and a timeout with a margin; print them with a manifest snippet')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its folder, module downloads and pulls), as listed when it asks')
            [CompletionResult]::new('--no-grants', '--no-grants', [CompletionResultType]::ParameterName, 'Run with the file''s grants removed (a bundle''s read-only subfolders stay)')
            [CompletionResult]::new('--registry-password-stdin', '--registry-password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password for --registry-user from stdin')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'extism-playground;inspect' {
            [CompletionResult]::new('--allow-redirect', '--allow-redirect', [CompletionResultType]::ParameterName, 'Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the URL''s own (the file''s headers are not sent there); any other redirect stops the download. Repeatable')
            [CompletionResult]::new('--registry-user', '--registry-user', [CompletionResultType]::ParameterName, 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names')
            [CompletionResult]::new('--registry-host', '--registry-host', [CompletionResultType]::ParameterName, 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable')
            [CompletionResult]::new('--registry-timeout', '--registry-timeout', [CompletionResultType]::ParameterName, 'How long a registry may stay silent (connecting, or between bytes), in seconds')
            [CompletionResult]::new('--max-layer-size', '--max-layer-size', [CompletionResultType]::ParameterName, 'The largest plugin layer pulled, in bytes')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its folder, module downloads and pulls), as listed when it asks')
            [CompletionResult]::new('--no-grants', '--no-grants', [CompletionResultType]::ParameterName, 'Run with the file''s grants removed (a bundle''s read-only subfolders stay)')
            [CompletionResult]::new('--registry-password-stdin', '--registry-password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password for --registry-user from stdin')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'extism-playground;replay' {
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'A secret for `get_secret`, NAME=VALUE, for bundles saved without secret values. Repeatable')
            [CompletionResult]::new('--allow-redirect', '--allow-redirect', [CompletionResultType]::ParameterName, 'Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the URL''s own (the file''s headers are not sent there); any other redirect stops the download. Repeatable')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON result on stdout')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its folder, module downloads and pulls), as listed when it asks')
            [CompletionResult]::new('--no-grants', '--no-grants', [CompletionResultType]::ParameterName, 'Run with the file''s grants removed (a bundle''s read-only subfolders stay)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'extism-playground;test' {
            [CompletionResult]::new('--xtp', '--xtp', [CompletionResultType]::ParameterName, 'Run this xtp-test plugin (it exports `test` and imports xtp:test/harness) against each PATH: one testcase per assertion it makes')
            [CompletionResult]::new('--mock-input-data', '--mock-input-data', [CompletionResultType]::ParameterName, 'With --xtp: what the harness''s `mock_input` returns')
            [CompletionResult]::new('--mock-input-file', '--mock-input-file', [CompletionResultType]::ParameterName, 'With --xtp: what the harness''s `mock_input` returns, read from a file')
            [CompletionResult]::new('--test-timeout', '--test-timeout', [CompletionResultType]::ParameterName, 'With --xtp: time limit of the whole run of the test plugin, in milliseconds (--timeout limits each call of the plugin under test)')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'With --xtp: lowest level of the run''s logs shown (on stderr, or in the JSON): trace, debug, info (default), warn, error')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Also write the results as JUnit XML (one testsuite per file, one testcase per test)')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Run only the tests whose name contains TEXT')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'How many tests run at once, each set in a worker process of its own [default: the number of cores]')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Run only the K-th of N disjoint slices of the tests (K from 1 to N), to split a run over machines')
            [CompletionResult]::new('--plugin', '--plugin', [CompletionResultType]::ParameterName, 'Run every suite against this plugin (a .wasm or manifest) instead of the one it names')
            [CompletionResult]::new('--allow-redirect', '--allow-redirect', [CompletionResultType]::ParameterName, 'Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the URL''s own (the file''s headers are not sent there); any other redirect stops the download. Repeatable')
            [CompletionResult]::new('--registry-user', '--registry-user', [CompletionResultType]::ParameterName, 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names')
            [CompletionResult]::new('--registry-host', '--registry-host', [CompletionResultType]::ParameterName, 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable')
            [CompletionResult]::new('--registry-timeout', '--registry-timeout', [CompletionResultType]::ParameterName, 'How long a registry may stay silent (connecting, or between bytes), in seconds')
            [CompletionResult]::new('--max-layer-size', '--max-layer-size', [CompletionResultType]::ParameterName, 'The largest plugin layer pulled, in bytes')
            [CompletionResult]::new('--allow-host', '--allow-host', [CompletionResultType]::ParameterName, 'Allow HTTP requests to a host (glob, e.g. *.example.com). Repeatable')
            [CompletionResult]::new('--allow-path', '--allow-path', [CompletionResultType]::ParameterName, 'Map a host directory into the guest: [ro:]HOST[:GUEST]. Repeatable')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A config value, KEY=VALUE. Repeatable')
            [CompletionResult]::new('--set-config', '--set-config', [CompletionResultType]::ParameterName, 'Config values as a JSON object')
            [CompletionResult]::new('--memory-max', '--memory-max', [CompletionResultType]::ParameterName, 'Maximum memory, in 64 KiB pages')
            [CompletionResult]::new('--http-response-max', '--http-response-max', [CompletionResultType]::ParameterName, 'Maximum HTTP response size')
            [CompletionResult]::new('--var-max', '--var-max', [CompletionResultType]::ParameterName, 'Maximum size of one Extism var')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout of one call, in milliseconds')
            [CompletionResult]::new('--fuel', '--fuel', [CompletionResultType]::ParameterName, 'Fuel limit of one call')
            [CompletionResult]::new('--host-fn', '--host-fn', [CompletionResultType]::ParameterName, 'Define a host function the plugin imports: NAME=SPEC. NAME is `name` (in extism:host/user) or `module::name`, optionally with argument and result kinds, e.g. `add(num,num)->num`. SPEC is value:TEXT, bytes:BASE64, template:TEXT (`{0}` is argument 0), kv-get, kv-set, fail:MESSAGE, rhai:FILE or wasm:FILE. Repeatable')
            [CompletionResult]::new('--host-fns', '--host-fns', [CompletionResultType]::ParameterName, 'Host function definitions from a JSON file (the form sessions and bundles store). Repeatable')
            [CompletionResult]::new('--mock-host', '--mock-host', [CompletionResultType]::ParameterName, 'A mock-host plugin: binds every import no other definition satisfies and whose name it exports')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the results as JSON instead of text')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its folder, module downloads and pulls), as listed when it asks')
            [CompletionResult]::new('--no-grants', '--no-grants', [CompletionResultType]::ParameterName, 'Run with the file''s grants removed (a bundle''s read-only subfolders stay)')
            [CompletionResult]::new('--registry-password-stdin', '--registry-password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password for --registry-user from stdin')
            [CompletionResult]::new('--wasi', '--wasi', [CompletionResultType]::ParameterName, 'Enable WASI')
            [CompletionResult]::new('--fast-compile', '--fast-compile', [CompletionResultType]::ParameterName, 'Compile fast (Cranelift unoptimized, single-pass register allocation): about half the compile time of a large plugin, slower calls')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'extism-playground;push' {
            [CompletionResult]::new('--annotation', '--annotation', [CompletionResultType]::ParameterName, 'An annotation on the manifest, KEY=VALUE (e.g. org.opencontainers.image.source=https://…). Repeatable')
            [CompletionResult]::new('--registry-user', '--registry-user', [CompletionResultType]::ParameterName, 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names')
            [CompletionResult]::new('--registry-host', '--registry-host', [CompletionResultType]::ParameterName, 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable')
            [CompletionResult]::new('--registry-timeout', '--registry-timeout', [CompletionResultType]::ParameterName, 'How long a registry may stay silent (connecting, or between bytes), in seconds')
            [CompletionResult]::new('--max-layer-size', '--max-layer-size', [CompletionResultType]::ParameterName, 'The largest plugin layer pulled, in bytes')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--registry-password-stdin', '--registry-password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password for --registry-user from stdin')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'extism-playground;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'extism-playground;help' {
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Call a plugin function headless and print its output')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show what a module exports and imports, without running it')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run a saved bundle''s steps and check each against what it expects')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run test suites (.toml), bundles, or folders of them; report for people, scripts or CI')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Publish a plugin to an OCI registry as a CNCF Wasm artifact')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell, e.g. for bash: `extism-playground completions bash > ~/.local/share/bash-completion/completions/extism-playground` (the .deb installs them for bash, zsh and fish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'extism-playground;help;call' {
            break
        }
        'extism-playground;help;inspect' {
            break
        }
        'extism-playground;help;replay' {
            break
        }
        'extism-playground;help;test' {
            break
        }
        'extism-playground;help;push' {
            break
        }
        'extism-playground;help;completions' {
            break
        }
        'extism-playground;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
