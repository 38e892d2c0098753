//! The protocol channel between a session and its worker: a stream no other process can take.
//!
//! - **Unix**: a socket pair made for this one worker. Its end becomes the worker's stdin as the
//!   worker starts, so there is nothing to connect to: no port, no path. The session writes the
//!   worker's token down it first (the token marks the worker's output, see `runner::output`);
//!   the worker then moves the socket off fd 0 and puts `/dev/null` there.
//! - **Windows**: a loopback TCP connection. The session listens on `127.0.0.1` (a port of the
//!   OS's choosing) and hands the worker the address and a random token on its stdin, which
//!   then closes; the worker connects and shows the token. Every connection that arrives is
//!   read side by side, each for at most [`TOKEN_LIMIT`] and all under the one connect limit,
//!   so a local process that connects first and trickles bytes holds nothing up. (This path is
//!   built and tested on every OS.)
//!
//! The worker's stdout and stderr are left to the plugin's WASI output (see `runner::output`).
//! Why not stdout for the protocol: a plugin that prints must never write into it.

use std::io::{self, BufRead, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How long the session waits for its worker's channel to be ready.
pub(crate) const CONNECT_LIMIT: Duration = Duration::from_secs(30);
/// How long a stalled write to the other side may wait before the channel is given up: the
/// other side reads everything as it comes, so a stall this long means it is stuck or stopped.
pub(crate) const WRITE_LIMIT: Duration = Duration::from_secs(30);
/// How long a connection may take to show its token (loopback path).
const TOKEN_LIMIT: Duration = Duration::from_secs(5);
/// How often the session looks for connections and what they have shown (loopback path).
const ACCEPT_POLL: Duration = Duration::from_millis(1);
/// Most connections read at once (loopback path): past it the oldest is closed. The worker
/// shows its token as it connects, so it is read before it could be the oldest.
const MAX_PENDING: usize = 256;

/// The stream frames travel on.
#[cfg(unix)]
pub(crate) type Stream = std::os::unix::net::UnixStream;
/// The stream frames travel on.
#[cfg(not(unix))]
pub(crate) type Stream = TcpStream;

/// A token that marks the worker's output (and, on the loopback path, proves a connection is
/// the worker's): 128 random bits, as hex.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    /// A new random token.
    pub fn random() -> io::Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self(bytes.iter().fold(String::new(), |mut hex, b| {
            let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
            hex
        })))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_string()))
    }
}

impl std::fmt::Debug for Token {
    /// Never printed: it is a secret between a session and its worker.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// The worker was started by hand, or its stdin is not what the session gives it.
fn not_from_the_app(detail: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "the worker expects its channel on stdin ({detail}); it is started by the app, not by hand"
        ),
    )
}

/// The session's side of a worker's channel, made before the worker starts.
pub(crate) struct Opening {
    token: Token,
    #[cfg(unix)]
    ours: Stream,
    #[cfg(unix)]
    theirs: Option<Stream>,
    #[cfg(not(unix))]
    listener: Listener,
}

impl Opening {
    pub fn new() -> io::Result<Self> {
        let token = Token::random()?;
        #[cfg(unix)]
        {
            let (ours, theirs) = Stream::pair()?;
            Ok(Self {
                token,
                ours,
                theirs: Some(theirs),
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {
                listener: Listener::bind(token.clone())?,
                token,
            })
        }
    }

    pub fn token(&self) -> &Token {
        &self.token
    }

    /// What the worker's stdin is. Unix: the worker's end of the pair (the caller drops the
    /// `Command` right after spawning, so no copy of that end stays here and the session sees
    /// the stream end when the worker does). Elsewhere: a pipe for the invitation.
    pub fn worker_stdin(&mut self) -> io::Result<std::process::Stdio> {
        #[cfg(unix)]
        {
            let theirs = self
                .theirs
                .take()
                .ok_or_else(|| io::Error::other("the worker's end was given already"))?;
            Ok(std::process::Stdio::from(std::os::fd::OwnedFd::from(
                theirs,
            )))
        }
        #[cfg(not(unix))]
        {
            Ok(std::process::Stdio::piped())
        }
    }

    /// Hands the started worker its channel and returns the session's end once it is there:
    /// at once on Unix; elsewhere when the worker connects, within `limit` (and no longer
    /// once the worker has ended).
    #[cfg_attr(unix, allow(unused_variables, reason = "nothing to wait for on Unix"))]
    pub fn open(self, child: &mut std::process::Child, limit: Duration) -> io::Result<Stream> {
        #[cfg(unix)]
        {
            let mut stream = self.ours;
            stream.set_write_timeout(Some(WRITE_LIMIT))?;
            // The worker reads this line before anything else; frames follow.
            stream.write_all(format!("{}\n", self.token.as_str()).as_bytes())?;
            Ok(stream)
        }
        #[cfg(not(unix))]
        {
            let mut stdin = child
                .stdin
                .take()
                .ok_or_else(|| io::Error::other("no stdin pipe for the invitation"))?;
            // The invitation is all the worker reads on stdin, which then closes.
            stdin.write_all(self.listener.invitation()?.as_bytes())?;
            drop(stdin);
            let stream = self.listener.accept(limit, || {
                child
                    .try_wait()
                    .ok()
                    .flatten()
                    .map(|status| format!("the worker ended before it connected ({status})"))
            })?;
            stream.set_write_timeout(Some(WRITE_LIMIT))?;
            Ok(stream)
        }
    }
}

/// The worker's end: its channel, from its stdin, and the token that marks its output.
pub(crate) fn connect() -> io::Result<(Stream, Token)> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
        // A pipe, file or terminal is not a socket: the worker was started by hand.
        let is_socket = rustix::fs::fstat(&fd).is_ok_and(|stat| {
            rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Socket
        });
        if !is_socket {
            return Err(not_from_the_app("its stdin is not a socket"));
        }
        let mut stream = Stream::from(fd);
        let line = read_line(&mut stream, 64)?;
        let token = Token::parse(line.trim_end())
            .ok_or_else(|| not_from_the_app("the first line is not a token"))?;
        // fd 0 no longer reaches the session: nothing in this process reads the channel but
        // the stream above.
        rustix::stdio::dup2_stdin(crate::platform::files::null_device()?)?;
        Ok((stream, token))
    }
    #[cfg(not(unix))]
    {
        connect_loopback(std::io::stdin().lock())
    }
}

/// Reads one line of at most `max` bytes, a byte at a time (frames follow it on the same
/// stream, and none of them may be read here).
#[cfg(unix)]
fn read_line(stream: &mut impl Read, max: usize) -> io::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < max {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        if byte[0] == b'\n' {
            return String::from_utf8(line)
                .map_err(|_| not_from_the_app("a line that is not text"));
        }
        line.push(byte[0]);
    }
    Err(not_from_the_app("no token line"))
}

/// The session's listener on the loopback path, before the worker has connected.
pub(crate) struct Listener {
    listener: TcpListener,
    token: Token,
}

/// A connection that has not shown a whole token yet.
struct Pending {
    stream: TcpStream,
    shown: Vec<u8>,
    since: Instant,
}

/// What a pending connection has shown so far.
enum Shown {
    Token,
    NotYet,
    /// Something else, or it closed: it is not the worker.
    Stranger,
}

impl Pending {
    fn read_more(&mut self, expected: &[u8]) -> Shown {
        let mut buf = [0u8; 64];
        let wanted = (expected.len() - self.shown.len()).min(buf.len());
        match (&self.stream).read(&mut buf[..wanted]) {
            Ok(0) => return Shown::Stranger,
            Ok(n) => self.shown.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Shown::NotYet,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Shown::NotYet,
            Err(_) => return Shown::Stranger,
        }
        if !expected.starts_with(&self.shown) {
            Shown::Stranger
        } else if self.shown.len() == expected.len() {
            Shown::Token
        } else {
            Shown::NotYet
        }
    }
}

#[cfg_attr(
    unix,
    allow(dead_code, reason = "the Windows path, tested on every OS")
)]
impl Listener {
    /// Listens on a loopback port of the OS's choosing.
    pub fn bind(token: Token) -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        listener.set_nonblocking(true)?;
        Ok(Self { listener, token })
    }

    /// The line the worker reads on its stdin: the address to connect to and the token.
    pub fn invitation(&self) -> io::Result<String> {
        Ok(format!(
            "{} {}\n",
            self.listener.local_addr()?,
            self.token.as_str()
        ))
    }

    /// Waits until `limit` for the connection that shows the token, reading every connection
    /// that arrives side by side, each for at most [`TOKEN_LIMIT`]. Asks `gone` between looks
    /// whether the worker has ended. Connections that show anything else, close, or take too
    /// long are closed without a word.
    pub fn accept(
        self,
        limit: Duration,
        mut gone: impl FnMut() -> Option<String>,
    ) -> io::Result<TcpStream> {
        let started = Instant::now();
        let expected = format!("{}\n", self.token.as_str()).into_bytes();
        let mut pending: Vec<Pending> = Vec::new();
        let mut turned_away = 0usize;
        loop {
            loop {
                match self.listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(true)?;
                        if pending.len() == MAX_PENDING {
                            pending.remove(0);
                            turned_away += 1;
                        }
                        pending.push(Pending {
                            stream,
                            shown: Vec::new(),
                            since: Instant::now(),
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // A connection that went away before it was taken, and the like: the
                    // listener itself is fine.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                    Err(e) => return Err(e),
                }
            }
            let mut i = 0;
            while i < pending.len() {
                match pending[i].read_more(&expected) {
                    Shown::Token => {
                        let stream = pending.swap_remove(i).stream;
                        stream.set_nonblocking(false)?;
                        stream.set_nodelay(true)?;
                        return Ok(stream);
                    }
                    Shown::NotYet if pending[i].since.elapsed() < TOKEN_LIMIT => i += 1,
                    Shown::NotYet | Shown::Stranger => {
                        pending.swap_remove(i);
                        turned_away += 1;
                    }
                }
            }
            if let Some(why) = gone() {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, why));
            }
            if started.elapsed() > limit {
                let others = turned_away + pending.len();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the worker did not connect within {} s ({others} other connection{} turned away)",
                        limit.as_secs_f64(),
                        if others == 1 { " was" } else { "s were" }
                    ),
                ));
            }
            std::thread::sleep(ACCEPT_POLL);
        }
    }
}

/// The worker's end on the loopback path: reads the invitation from `invitation` (its
/// stdin), connects and shows the token.
#[cfg_attr(
    unix,
    allow(dead_code, reason = "the Windows path, tested on every OS")
)]
fn connect_loopback(invitation: impl BufRead) -> io::Result<(TcpStream, Token)> {
    let mut line = String::new();
    invitation.take(4096).read_line(&mut line)?;
    let (addr, token) = parse_invitation(&line)?;
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.write_all(format!("{}\n", token.as_str()).as_bytes())?;
    stream.flush()?;
    Ok((stream, token))
}

#[cfg_attr(
    unix,
    allow(dead_code, reason = "the Windows path, tested on every OS")
)]
fn parse_invitation(line: &str) -> io::Result<(SocketAddr, Token)> {
    let bad = || not_from_the_app("`ADDRESS TOKEN`");
    let mut parts = line.split_whitespace();
    let addr: SocketAddr = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let token = parts.next().and_then(Token::parse).ok_or_else(bad)?;
    if !addr.ip().is_loopback() || parts.next().is_some() {
        return Err(bad());
    }
    Ok((addr, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let a = Token::random().unwrap();
        let b = Token::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(format!("{a:?}"), "Token(…)");
    }

    fn listener() -> (Listener, String, SocketAddr) {
        let listener = Listener::bind(Token::random().unwrap()).unwrap();
        let invitation = listener.invitation().unwrap();
        let (addr, _) = parse_invitation(&invitation).unwrap();
        (listener, invitation, addr)
    }

    fn worker(invitation: String) -> std::thread::JoinHandle<Token> {
        std::thread::Builder::new()
            .name("test-worker".into())
            .spawn(move || {
                let (mut stream, token) = connect_loopback(invitation.as_bytes()).unwrap();
                stream.write_all(b"hello").unwrap();
                token
            })
            .unwrap()
    }

    #[test]
    fn the_worker_connects_with_its_token_and_a_stranger_is_turned_away() {
        let (listener, invitation, addr) = listener();
        // A stranger connects first, with a wrong token; then the worker.
        let mut stranger = TcpStream::connect(addr).unwrap();
        stranger
            .write_all(b"00000000000000000000000000000000\n")
            .unwrap();
        let worker = worker(invitation);
        let mut stream = listener.accept(Duration::from_secs(10), || None).unwrap();
        // The stranger was closed without a word.
        stranger
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(stranger.read(&mut buf).unwrap(), 0);
        let mut hello = [0u8; 5];
        stream.read_exact(&mut hello).unwrap();
        assert_eq!(&hello, b"hello");
        assert_eq!(worker.join().unwrap().as_str().len(), 32);
    }

    /// The hold the one-at-a-time handshake allowed: connections that come first and show
    /// nothing, or trickle a byte now and then, each kept the worker out for the whole token
    /// limit (a byte every 4.5 s held it for 145 s). Read side by side, they hold nothing up:
    /// the worker is admitted well inside a limit shorter than one stranger's token limit.
    #[test]
    fn strangers_that_connect_first_and_trickle_do_not_hold_the_worker_out() {
        let (listener, invitation, addr) = listener();
        let silent: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let trickler = {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::Builder::new()
                .name("trickler".into())
                .spawn(move || {
                    let mut stream = TcpStream::connect(addr).unwrap();
                    // Each byte could begin a token: any hex digit might.
                    for digit in b"0123456789abcdef".iter().cycle() {
                        if stop.load(std::sync::atomic::Ordering::SeqCst)
                            || stream.write_all(&[*digit]).is_err()
                        {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                })
                .unwrap()
        };
        // Every stranger is in before the worker.
        std::thread::sleep(Duration::from_millis(200));
        let worker = worker(invitation);
        let limit = TOKEN_LIMIT / 2;
        let started = Instant::now();
        let accepted = listener.accept(limit, || None);
        // Admitted at all is not enough: one at a time also admits it, a token limit per
        // stranger later.
        assert!(started.elapsed() < limit, "{:?}", started.elapsed());
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut stream = accepted.expect("the worker is admitted within the limit");
        let mut hello = [0u8; 5];
        stream.read_exact(&mut hello).unwrap();
        assert_eq!(&hello, b"hello");
        worker.join().unwrap();
        trickler.join().unwrap();
        drop(silent);
    }

    #[test]
    fn a_flood_of_connections_ends_at_the_limit_and_says_so() {
        let (listener, _invitation, addr) = listener();
        let _held: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let err = listener
            .accept(Duration::from_millis(300), || None)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(
            err.to_string()
                .contains("did not connect within 0.3 s (5 other connections were turned away)"),
            "{err}"
        );
    }

    #[test]
    fn a_worker_that_ended_is_not_waited_for() {
        let (listener, _invitation, _addr) = listener();
        let err = listener
            .accept(Duration::from_secs(10), || Some("exit status: 3".into()))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(err.to_string().contains("exit status: 3"));
    }

    #[test]
    fn invitations_must_be_loopback_with_a_token() {
        let token = "0123456789abcdef0123456789abcdef";
        assert!(parse_invitation(&format!("127.0.0.1:4000 {token}\n")).is_ok());
        assert!(parse_invitation(&format!("[::1]:4000 {token}")).is_ok());
        for bad in [
            String::new(),
            format!("10.0.0.1:4000 {token}"),
            "127.0.0.1:4000 short".to_string(),
            format!("127.0.0.1:4000 {token} extra"),
            format!("localhost {token}"),
        ] {
            let err = parse_invitation(&bad).unwrap_err();
            assert!(err.to_string().contains("started by the app"), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_token_line_is_read_without_taking_what_follows() {
        let (mut a, mut b) = Stream::pair().unwrap();
        a.write_all(b"0123456789abcdef0123456789abcdef\nFRAME")
            .unwrap();
        let line = read_line(&mut b, 64).unwrap();
        assert!(Token::parse(&line).is_some());
        let mut rest = [0u8; 5];
        b.read_exact(&mut rest).unwrap();
        assert_eq!(&rest, b"FRAME");
        a.write_all(&[b'x'; 80]).unwrap();
        assert!(read_line(&mut b, 64).is_err());
    }
}
