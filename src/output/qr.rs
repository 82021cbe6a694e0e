//! A QR code for the terminal: Unicode half blocks (two modules a character), light modules
//! drawn, as `qrencode -t UTF8` does, so it reads on the usual dark terminal background.
//! The `qrcode` crate encodes; nothing here but the choice of colours.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// `text` as a QR code of half blocks, quiet zone included; None if it cannot be encoded
/// (over 2953 bytes: never an otpauth URI).
pub fn terminal(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build())
}

/// The QR code of a new device's otpauth `uri` and its seed in groups of four, to scan or to
/// type into an authenticator app (`enroll` prints it on stdout).
pub fn enrolment(uri: &str, seed: &crate::credentials::Secret, serial: &str) -> String {
    let qr = terminal(uri).unwrap_or_default();
    let grouped: Vec<String> =
        seed.expose().as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    format!(
        "Scan this QR code with your authenticator app (device {serial}):\n\n{qr}\n\nOr type this key into it (time-based, 6 digits, 30 s):\n  {}\n\n",
        grouped.join(" ")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_uri_becomes_lines_of_half_blocks() {
        let qr = super::terminal("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").unwrap();
        let lines: Vec<&str> = qr.lines().collect();
        assert!(lines.len() > 10);
        assert!(lines.iter().all(|l| l.chars().count() == lines[0].chars().count()), "a square of equal lines");
        assert!(qr.chars().all(|c| " \n▀▄█".contains(c)));
        assert!(lines[0].chars().all(|c| c == '█'), "the quiet zone is light (drawn)");
    }
}
