# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_extism_playground_global_optspecs
    string join \n registry-user= registry-host= registry-password-stdin insecure-registry= registry-timeout= max-layer-size= h/help V/version
end

function __fish_extism_playground_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_extism_playground_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_extism_playground_using_subcommand
    set -l cmd (__fish_extism_playground_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c extism-playground -n "__fish_extism_playground_needs_command" -l registry-user -d 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names' -r
complete -c extism-playground -n "__fish_extism_playground_needs_command" -l registry-host -d 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_needs_command" -l insecure-registry -d 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_needs_command" -l registry-timeout -d 'How long a registry may stay silent (connecting, or between bytes), in seconds' -r
complete -c extism-playground -n "__fish_extism_playground_needs_command" -l max-layer-size -d 'The largest plugin layer pulled, in bytes' -r
complete -c extism-playground -n "__fish_extism_playground_needs_command" -l registry-password-stdin -d 'Read the registry password for --registry-user from stdin'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -s h -l help -d 'Print help'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -s V -l version -d 'Print version'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -a "call" -d 'Call a plugin function headless and print its output'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -a "inspect" -d 'Show what a module exports and imports, without running it'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -a "replay" -d 'Run a saved bundle\'s steps and check each against what it expects'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -a "test" -d 'Run test suites (.toml), bundles, or folders of them; report for people, scripts or CI'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -a "push" -d 'Publish a plugin to an OCI registry as a CNCF Wasm artifact'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -a "completions" -d 'Print the completion script for a shell, e.g. for bash: `extism-playground completions bash > ~/.local/share/bash-completion/completions/extism-playground` (the .deb installs them for bash, zsh and fish)'
complete -c extism-playground -n "__fish_extism_playground_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -s i -l input -d 'Input data' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l input-file -d 'Read input data from a file' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l allow-host -d 'Allow HTTP requests to a host (glob, e.g. *.example.com). Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l allow-path -d 'Map a host directory into the guest: [ro:]HOST[:GUEST]. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l config -d 'A config value, KEY=VALUE. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l set-config -d 'Config values as a JSON object' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l memory-max -d 'Maximum memory, in 64 KiB pages' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l http-response-max -d 'Maximum HTTP response size' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l var-max -d 'Maximum size of one Extism var' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l timeout -d 'Timeout of one call, in milliseconds' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l fuel -d 'Fuel limit of one call' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l loop -d 'Call the function N times on the warm instance and report statistics' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l log-level -d 'Lowest log level shown: trace, debug, info, warn, error' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l secret -d 'A secret for the `get_secret` host function, NAME=VALUE. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l kv -d 'A kv store entry for the `kv_get`/`kv_set` host functions, KEY=VALUE. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l host-fn -d 'Define a host function the plugin imports: NAME=SPEC. NAME is `name` (in extism:host/user) or `module::name`, optionally with argument and result kinds, e.g. `add(num,num)->num`. SPEC is value:TEXT, bytes:BASE64, template:TEXT (`{0}` is argument 0), kv-get, kv-set, fail:MESSAGE, rhai:FILE or wasm:FILE. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l host-fns -d 'Host function definitions from a JSON file (the form sessions and bundles store). Repeatable' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l mock-host -d 'A mock-host plugin: binds every import no other definition satisfies and whose name it exports' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l save-bundle -d 'Save the call as a self-contained bundle (plugin embedded, expected output = this output) for `replay`' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l coredump -d 'When the call traps, write wasmtime\'s coredump (frames, globals, memory) to FILE. It holds the plugin\'s memory, so it may hold secrets' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l allow-redirect -d 'Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the URL\'s own (the file\'s headers are not sent there); any other redirect stops the download. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l registry-user -d 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l registry-host -d 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l insecure-registry -d 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l registry-timeout -d 'How long a registry may stay silent (connecting, or between bytes), in seconds' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l max-layer-size -d 'The largest plugin layer pulled, in bytes' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l stdin -d 'Read input data from stdin'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l wasi -d 'Enable WASI'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l fast-compile -d 'Compile fast (Cranelift unoptimized, single-pass register allocation): about half the compile time of a large plugin, slower calls'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l json -d 'Print one JSON report on stdout instead of the raw output'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l bundle-coredump -d 'With --save-bundle: embed the trap\'s coredump in the bundle (it holds the plugin\'s memory, so it may hold secrets)'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l find-limits -d 'Find the smallest memory pages and fuel with which the call gives the same outcome, and a timeout with a margin; print them with a manifest snippet'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l trust -d 'Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its folder, module downloads and pulls), as listed when it asks'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l no-grants -d 'Run with the file\'s grants removed (a bundle\'s read-only subfolders stay)'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -l registry-password-stdin -d 'Read the registry password for --registry-user from stdin'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand call" -s h -l help -d 'Print help'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l allow-redirect -d 'Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the URL\'s own (the file\'s headers are not sent there); any other redirect stops the download. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l registry-user -d 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l registry-host -d 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l insecure-registry -d 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l registry-timeout -d 'How long a registry may stay silent (connecting, or between bytes), in seconds' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l max-layer-size -d 'The largest plugin layer pulled, in bytes' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l json -d 'Print JSON'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l trust -d 'Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its folder, module downloads and pulls), as listed when it asks'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l no-grants -d 'Run with the file\'s grants removed (a bundle\'s read-only subfolders stay)'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -l registry-password-stdin -d 'Read the registry password for --registry-user from stdin'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand replay" -l secret -d 'A secret for `get_secret`, NAME=VALUE, for bundles saved without secret values. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand replay" -l allow-redirect -d 'Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the URL\'s own (the file\'s headers are not sent there); any other redirect stops the download. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand replay" -l json -d 'Print one JSON result on stdout'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand replay" -l trust -d 'Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its folder, module downloads and pulls), as listed when it asks'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand replay" -l no-grants -d 'Run with the file\'s grants removed (a bundle\'s read-only subfolders stay)'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand replay" -s h -l help -d 'Print help'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l xtp -d 'Run this xtp-test plugin (it exports `test` and imports xtp:test/harness) against each PATH: one testcase per assertion it makes' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l mock-input-data -d 'With --xtp: what the harness\'s `mock_input` returns' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l mock-input-file -d 'With --xtp: what the harness\'s `mock_input` returns, read from a file' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l test-timeout -d 'With --xtp: time limit of the whole run of the test plugin, in milliseconds (--timeout limits each call of the plugin under test)' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l log-level -d 'With --xtp: lowest level of the run\'s logs shown (on stderr, or in the JSON): trace, debug, info (default), warn, error' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l junit -d 'Also write the results as JUnit XML (one testsuite per file, one testcase per test)' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l filter -d 'Run only the tests whose name contains TEXT' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l jobs -d 'How many tests run at once, each set in a worker process of its own [default: the number of cores]' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l shard -d 'Run only the K-th of N disjoint slices of the tests (K from 1 to N), to split a run over machines' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l plugin -d 'Run every suite against this plugin (a .wasm or manifest) instead of the one it names' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l allow-redirect -d 'Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the URL\'s own (the file\'s headers are not sent there); any other redirect stops the download. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l registry-user -d 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l registry-host -d 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l insecure-registry -d 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l registry-timeout -d 'How long a registry may stay silent (connecting, or between bytes), in seconds' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l max-layer-size -d 'The largest plugin layer pulled, in bytes' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l allow-host -d 'Allow HTTP requests to a host (glob, e.g. *.example.com). Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l allow-path -d 'Map a host directory into the guest: [ro:]HOST[:GUEST]. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l config -d 'A config value, KEY=VALUE. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l set-config -d 'Config values as a JSON object' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l memory-max -d 'Maximum memory, in 64 KiB pages' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l http-response-max -d 'Maximum HTTP response size' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l var-max -d 'Maximum size of one Extism var' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l timeout -d 'Timeout of one call, in milliseconds' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l fuel -d 'Fuel limit of one call' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l host-fn -d 'Define a host function the plugin imports: NAME=SPEC. NAME is `name` (in extism:host/user) or `module::name`, optionally with argument and result kinds, e.g. `add(num,num)->num`. SPEC is value:TEXT, bytes:BASE64, template:TEXT (`{0}` is argument 0), kv-get, kv-set, fail:MESSAGE, rhai:FILE or wasm:FILE. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l host-fns -d 'Host function definitions from a JSON file (the form sessions and bundles store). Repeatable' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l mock-host -d 'A mock-host plugin: binds every import no other definition satisfies and whose name it exports' -r -F
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l json -d 'Print the results as JSON instead of text'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l trust -d 'Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its folder, module downloads and pulls), as listed when it asks'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l no-grants -d 'Run with the file\'s grants removed (a bundle\'s read-only subfolders stay)'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l registry-password-stdin -d 'Read the registry password for --registry-user from stdin'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l wasi -d 'Enable WASI'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -l fast-compile -d 'Compile fast (Cranelift unoptimized, single-pass register allocation): about half the compile time of a large plugin, slower calls'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand test" -s h -l help -d 'Print help'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -l annotation -d 'An annotation on the manifest, KEY=VALUE (e.g. org.opencontainers.image.source=https://…). Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -l registry-user -d 'A registry user name; the password (or token) is read from stdin. It is sent only to the registry of the reference on the command line, and to those named with --registry-host: never to a registry a file names' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -l registry-host -d 'Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a manifest or suite pulls from. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -l insecure-registry -d 'Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and loopback addresses always are. Repeatable' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -l registry-timeout -d 'How long a registry may stay silent (connecting, or between bytes), in seconds' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -l max-layer-size -d 'The largest plugin layer pulled, in bytes' -r
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -l json -d 'Print the result as JSON'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -l registry-password-stdin -d 'Read the registry password for --registry-user from stdin'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand push" -s h -l help -d 'Print help'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand completions" -s h -l help -d 'Print help'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand help; and not __fish_seen_subcommand_from call inspect replay test push completions help" -f -a "call" -d 'Call a plugin function headless and print its output'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand help; and not __fish_seen_subcommand_from call inspect replay test push completions help" -f -a "inspect" -d 'Show what a module exports and imports, without running it'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand help; and not __fish_seen_subcommand_from call inspect replay test push completions help" -f -a "replay" -d 'Run a saved bundle\'s steps and check each against what it expects'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand help; and not __fish_seen_subcommand_from call inspect replay test push completions help" -f -a "test" -d 'Run test suites (.toml), bundles, or folders of them; report for people, scripts or CI'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand help; and not __fish_seen_subcommand_from call inspect replay test push completions help" -f -a "push" -d 'Publish a plugin to an OCI registry as a CNCF Wasm artifact'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand help; and not __fish_seen_subcommand_from call inspect replay test push completions help" -f -a "completions" -d 'Print the completion script for a shell, e.g. for bash: `extism-playground completions bash > ~/.local/share/bash-completion/completions/extism-playground` (the .deb installs them for bash, zsh and fish)'
complete -c extism-playground -n "__fish_extism_playground_using_subcommand help; and not __fish_seen_subcommand_from call inspect replay test push completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
