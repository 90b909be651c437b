//! A real Mosquitto for tests that follow Bambu Lab printers, started per test on free ports: a TLS listener
//! that plays the printer's broker (a certificate named after the printer's serial, signed by
//! a CA the test makes; user `bblp` with the access code in a password file) and a plain
//! listener on which the simulated printer publishes. Stopped (SIGKILL) and its files removed
//! when dropped, however the test ends.

use std::{
    fs,
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// Whether a peer that is not installed fails the suite (CI sets `PRINTDESK_REQUIRE_PEERS=1`)
/// or skips it with a message (a newcomer's `cargo test` without Mosquitto or OctoPrint).
pub fn missing_peer<T>(what: &str) -> Option<T> {
    if std::env::var_os("PRINTDESK_REQUIRE_PEERS").is_some() {
        panic!("{what} is required (PRINTDESK_REQUIRE_PEERS is set) but not installed");
    }
    eprintln!("SKIPPED: {what} is not installed (`just test-printers` installs it)");
    None
}

/// A CA the test trusts, able to sign broker certificates.
#[derive(Debug)]
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA with a fresh key.
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "printdesk test printer CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a CA certificate"),
        }
    }

    /// The CA's certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate and key (PEM) named `name` (CN and DNS name), as Bambu Lab names a
    /// printer's certificate after its serial.
    pub fn server_certificate(&self, name: &str) -> (String, String) {
        let mut params = CertificateParams::new(vec![name.to_owned()]).expect("parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("a server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("a signed certificate");
        (cert.pem(), key.serialize_pem())
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// A running Mosquitto.
#[derive(Debug)]
pub struct Broker {
    child: Child,
    dir: PathBuf,
    /// The TLS listener (printdesk's side).
    pub tls_port: u16,
    /// The plain listener (the simulated printer's side).
    pub plain_port: u16,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn temp_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "printdesk-mosquitto-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

impl Broker {
    /// Starts a broker whose TLS certificate is `cert`/`key` and whose user `bblp` has the
    /// password `access_code`.
    /// `None` (after a message) when Mosquitto is not installed and the suite may skip.
    pub fn start(cert: &(String, String), access_code: &str) -> Option<Self> {
        Self::start_on(cert, access_code, free_port(), free_port())
    }

    /// Like [`Broker::start`], on given ports (to restart a broker where a client expects it).
    pub fn start_on(
        (cert, key): &(String, String),
        access_code: &str,
        tls_port: u16,
        plain_port: u16,
    ) -> Option<Self> {
        let installed = |exe: &str| {
            Command::new(exe)
                .arg("--help")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        };
        if !installed("mosquitto") || !installed("mosquitto_passwd") {
            return missing_peer("Mosquitto (Debian's mosquitto package)");
        }
        let dir = temp_dir();
        fs::write(dir.join("server.pem"), cert).expect("write the certificate");
        fs::write(dir.join("server.key"), key).expect("write the key");
        let passwd = dir.join("passwd");
        let made = Command::new("mosquitto_passwd")
            .arg("-b")
            .arg("-c")
            .arg(&passwd)
            .arg("bblp")
            .arg(access_code)
            .stdout(Stdio::null())
            .status()
            .expect("mosquitto_passwd is installed (Debian's mosquitto package)");
        assert!(made.success(), "mosquitto_passwd failed");
        let conf = dir.join("mosquitto.conf");
        fs::write(
            &conf,
            format!(
                "per_listener_settings true\n\
                 log_dest stderr\n\
                 log_type error\n\
                 log_type warning\n\
                 listener {tls_port} 127.0.0.1\n\
                 certfile {dir}/server.pem\n\
                 keyfile {dir}/server.key\n\
                 password_file {dir}/passwd\n\
                 allow_anonymous false\n\
                 listener {plain_port} 127.0.0.1\n\
                 allow_anonymous true\n",
                dir = dir.display()
            ),
        )
        .expect("write the configuration");
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is installed (Debian's mosquitto package)");
        let broker = Self {
            child,
            dir,
            tls_port,
            plain_port,
        };
        broker.wait_until_listening();
        Some(broker)
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in [self.tls_port, self.plain_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "mosquitto did not listen on {port}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Where its configuration and certificate are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
