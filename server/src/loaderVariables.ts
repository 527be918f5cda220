// Environment variables that change how programs load or run code: a decrypted config that sets one of
// them turns "run ./deploy.sh with these secrets" into "run whatever the config's writer wants" (an
// LD_PRELOAD library, a NODE_OPTIONS --require, a BASH_ENV script, a PATH with their `git` first).
// `noteseal exec` refuses them unless the user names them on the command line (docs/CLI.md lists them);
// one module so every consumer of decrypted configs (the CLI, the library, other formats) uses one list.
// Names compare case-insensitively: Windows' environment is, and npm reads `npm_config_*` in any case.

/** Exact names. */
export const LOADER_VARIABLES: readonly string[] = [
  // Shells: startup files, exported functions' neighbours, tracing that runs command substitutions.
  'BASH_ENV', 'ENV', 'ZDOTDIR', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'PROMPT_COMMAND', 'IFS', 'SHELL',
  // Where programs, configs and startup files are found.
  'PATH', 'HOME', 'XDG_CONFIG_HOME',
  // Programs that other programs start.
  'EDITOR', 'VISUAL', 'PAGER', 'BROWSER', 'SSH_ASKPASS', 'SUDO_ASKPASS', 'LESSOPEN', 'LESSCLOSE',
  // Node.js and Electron.
  'NODE_OPTIONS', 'NODE_PATH', 'NODE_REPL_EXTERNAL_MODULE', 'ELECTRON_RUN_AS_NODE',
  // Python.
  'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONUSERBASE', 'PYTHONBREAKPOINT', 'PYTHONEXECUTABLE', 'PYTHONPLATLIBDIR', 'PYTHONWARNINGS',
  // Perl, Ruby, PHP, Tcl.
  'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB', 'RUBYOPT', 'RUBYLIB', 'GEM_HOME', 'GEM_PATH', 'BUNDLE_GEMFILE', 'PHPRC', 'PHP_INI_SCAN_DIR', 'TCLLIBPATH',
  // Java, .NET, Go.
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'DOTNET_STARTUP_HOOKS', 'DOTNET_ADDITIONAL_DEPS', 'GOFLAGS',
  // The C library, OpenSSL, toolkits' plug-ins.
  'GCONV_PATH', 'GLIBC_TUNABLES', 'OPENSSL_CONF', 'OPENSSL_ENGINES', 'OPENSSL_MODULES', 'QT_PLUGIN_PATH', 'GTK_MODULES', 'GTK_PATH', 'GIO_EXTRA_MODULES',
];

/** Prefixes: every variable starting with one of these. */
export const LOADER_PREFIXES: readonly string[] = [
  'LD_', 'DYLD_', 'GIT_', 'BASH_FUNC_', 'LUA_', 'NPM_CONFIG_', 'CORECLR_', 'COR_',
];

const exact = new Set(LOADER_VARIABLES);

/** Whether setting `name` changes how programs load or run code. */
export function isLoaderVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return exact.has(upper) || LOADER_PREFIXES.some(p => upper.startsWith(p));
}
