// The text of `noteseal help`. Kept beside the commands so a new option is documented where it is added.
// At most 80 columns, and nothing that points into this repository (a user has only the command).
import { VERSION } from '../version';

export const USAGE = `noteseal ${VERSION}: encrypted files for NoteSeal (.enc), from the command line

Usage: noteseal <command> [options]

Commands:
  init                  create the master key and keyfile; prints the
                        recovery key once
  encrypt <file|-> [-o out]
                        encrypt a file (default output: <file>.enc);
                        --detached for a shreddable key
  encrypt --sops <file> [-o out]
                        make a plaintext YAML/JSON/dotenv/INI file a sops
                        file (in place unless -o) by the matching rule of
                        the accepted .sops.yaml above it
  encrypt --age [-r RECIPIENT]... [--armor] [--trust] <file|-> [-o out]
                        write an age file (default <file>.age): to the -r
                        recipients (age1…, age1pq1…, noteseal1…), else the
                        nearest accepted .age-recipients, else the folder's
                        members, else you
  decrypt <file.enc> [-o out] [--identity FILE]
                        decrypt to stdout (only after the whole file is
                        authenticated) or to a file; --identity: with an age
                        identity file (AGE-SECRET-KEY-1… or -PQ-1…)
  identity [--json] [--age]
                        this keyfile's public identity (created if missing),
                        as the last line; --age: as an age1pq1 recipient
  identity import <file|-> [--yes]
                        seal AGE-SECRET-KEY-1…/-PQ-1… lines in the key
                        store; --yes deletes the file; a dotenvx .env.keys:
                        its DOTENV_PRIVATE_KEY… entries
  identity list [--json]
                        the age identities held (public halves)
  identity forget <recipient> [--yes]
                        remove an imported age identity (or dotenvx key,
                        given its DOTENV_PUBLIC_KEY)
  identity export --age your identity as AGE-SECRET-KEY-PQ-1… (stdout only:
                        it is your secret key)
  identity export --secret
                        your whole identity as NOTESEAL-SECRET-KEY-1… (stdout
                        only), for a server's or CI job's NOTESEAL_IDENTITY
  recipients add <identity> [--name NAME] [--my-name NAME] [--dir D]
                        share folder D (default .) with a member: signs a
                        change to D/.noteseal/recipients; a new list names
                        you --my-name (default: $USER, else your login name)
  recipients remove <identity|name> [--dir D] [--rekey]
                        stop sharing with a member (old copies stay
                        readable); --rekey re-encrypts
  recipients list [--dir D] [--json] [--trust]
                        the members of the list that applies to D (key
                        fingerprints, who signed each in); --trust then
                        accepts it on this machine (needed once before
                        NoteSeal encrypts to it); also a .age-recipients
                        and a .sops.yaml (its creation rules)
  recipients forget [--dir D]
                        this machine stops remembering D's list (after
                        deleting it on purpose)
  updatekeys <path>...  rewrap the headers of .enc files to their folder's
                        members (content untouched); a sops file: its data
                        key rewrapped to the age recipients of its accepted
                        .sops.yaml rule
  inspect <file.enc>... show header facts (version, suite, chunk size, key
                        stanzas); --json
  verify <file.enc>...  authenticate every chunk; prints nothing secret
  passwd [--recovery]   change the passphrase (or set a new one with the
                        recovery key)
  rotate <folder>       new master key; rewrap the key of every .enc file
                        below <folder>
  unlock list [--json]  the keyfile's unlock slots (beside the passphrase)
  unlock add pkcs11 --module PATH [--token LABEL] [--name NAME]
                        add a slot: a P-256 key made on the token opens
                        the keyfile with the token's PIN
  unlock add tpm [--pin] [--name NAME]
                        add a slot sealed to this machine's TPM 2.0,
                        optionally with a PIN
  unlock remove NAME [--rotate [folder]]
                        remove a slot; --rotate also rotates the master key
                        (older keyfile copies then no longer open files)
  recover <file.enc>    seal an unfinished recording (or log) so it can be read
  append <log.enc>      seal stdin into a log as it arrives (a sealed chunk at
                        least every second); continues an existing log,
                        recovering it first if a crash left it open
  cat <log.enc> [--follow] [--identity FILE]
                        print a log's sealed chunks (never a chunk still being
                        written); --follow: wait for new ones (Ctrl-C ends)
  shred <file.enc> --yes
                        destroy a file's detached key: the file becomes
                        unreadable for good
  agent start [--idle-minutes N]
                        ask the passphrase once and serve file keys in the
                        background (default 15 min)
  agent stop|lock|status
                        end it / wipe its keys / tell whether one answers
                        (0 unlocked, 9 locked, 10 none)
  exec <file.enc>... -- <command> [args]
                        run a command with the variables of decrypted
                        dotenv/JSON/YAML files; refuses a file no trusted
                        writer signed (exit 12; --allow-unverified-writer)
                        and variables that load code (LD_*, NODE_OPTIONS,
                        PATH…; --allow-env NAME)
  set <.env> KEY VALUE|-
                        set one value of a dotenvx file, encrypted to its
                        DOTENV_PUBLIC_KEY… (- reads VALUE from stdin); no
                        private key needed; on a sops file, KEY is a path
                        (db.password, servers[0], "a.b", ["a"][0]) and the
                        value is encrypted with the file's data key (an age
                        identity you hold opens it); --json: VALUE is JSON,
                        as sops set takes it (5433, true, null, "text", {…})
  grep PATTERN [PATH...]
                        search inside encrypted notes (folders, or .enc
                        files): path:line:text, like rg; -i ignore case,
                        -w whole words, -F fixed string, -l file names,
                        -c counts, -n line numbers (the default),
                        --include/--exclude GLOB; exit 0 found, 1 none,
                        2 error
  transcribe <recording.wav.enc> [-o NOTE.enc] [--engine pocketsphinx|whisper]
                        transcribe a sealed WAV on this machine (audio and
                        text on pipes only): to stdout as [m:ss] text, or
                        into the note's Transcript section with -o;
                        --command PATH, --model PATH, --language L choose
                        the engine's program and model (exit 14: no engine,
                        or it failed)
  git setup|check       set up this repository's git to diff and merge .enc,
                        age, dotenvx and sops files decrypted / say what is
                        missing
  git textconv <file>   (for git) the decrypted text, or one placeholder
                        line while locked
  git merge-driver %O %A %B %P
                        (for git) three-way merge in memory; the result is
                        written encrypted
  help                  this text

Options:
  --keyfile <path>   keyfile (default: $NOTESEAL_KEYFILE, else
                     ~/.config/noteseal/keyfile.json; on Windows
                     %APPDATA%\\noteseal\\keyfile.json)
  -o, --output <p>   output file ('-' for stdout)
  -f, --force        overwrite an existing output file
  --unlock NAME      unlock through that slot (default: the first slot
                     whose token is present, else the passphrase)
  --module PATH      the PKCS#11 module (default: $NOTESEAL_PKCS11_MODULE)

Passphrases are never taken from the command line. They are typed at the
terminal (no echo), or read from a file or an inherited file descriptor:
  NOTESEAL_PASSPHRASE_FILE=path or NOTESEAL_PASSPHRASE_FD=n
                        the passphrase
  NOTESEAL_NEW_PASSPHRASE_FILE=path or NOTESEAL_NEW_PASSPHRASE_FD=n
                        the new one, for passwd
  NOTESEAL_RECOVERY_KEY_FILE=path or NOTESEAL_RECOVERY_KEY_FD=n
                        the recovery key, for passwd --recovery
  NOTESEAL_AGE_PASSPHRASE_FILE=path or NOTESEAL_AGE_PASSPHRASE_FD=n
                        an age passphrase file's own passphrase
  NOTESEAL_PIN_FILE=path or NOTESEAL_PIN_FD=n
                        a token's PIN, for unlock slots
decrypt, inspect, exec, grep and git also take age files (*.age). age files
carry no signature, so they have no writer: exec refuses them (exit 12)
unless --allow-unverified-writer; the git merge driver merges them only when
every side opens with your identities, for recipients you accepted. decrypt
and exec also take dotenvx .env files (a DOTENV_PUBLIC_KEY…
line): the private key comes from DOTENV_PRIVATE_KEY… in the environment or
from an imported .env.keys; their values carry no signature either, so exec
refuses them the same way. decrypt and set also take sops files (YAML,
JSON, dotenv, INI with sops metadata) whose data key an age identity you
hold opens (imported, or --identity FILE); the MAC is checked; a file only
for PGP, KMS or Vault names the key that would open it.

Commands that need file keys ask the agent first ($NOTESEAL_AGENT_SOCK or
the default socket), then an age identity given on purpose (servers, CI:
--identity FILE for decrypt, exec, grep and verify, or NOTESEAL_IDENTITY
holding AGE-SECRET-KEY-… or NOTESEAL-SECRET-KEY-… lines, or
NOTESEAL_IDENTITY_FILE=path), which
opens files shared to it but never writes, then the passphrase.

Exit status: 0 ok, 1 usage, 2 wrong passphrase or key, 3 not a NoteSeal file
(or unsupported version), 4 damaged file (corrupted, truncated, trailing
data, unfinished), 5 damaged keyfile, 6 key not found (shredded), 7 I/O
error, 8 internal error, 9 agent locked, 10 no agent, 11 recipients list
refused, 12 unverified writer, 13 token absent, 130 cancelled.
`;
