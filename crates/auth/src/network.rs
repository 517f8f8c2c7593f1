//! Source address restrictions: CIDR blocks a user may (or may not) connect from.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use thiserror::Error;

/// One CIDR block such as `10.0.0.0/8` or `2001:db8::/32`; a bare address is a single host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix_bits: u8,
}

/// Why a CIDR block could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("invalid CIDR address: {0}")]
pub struct CidrError(pub String);

impl Cidr {
    /// Whether `ip` lies in this block. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, as a
    /// dual-stack listener reports IPv4 peers) are compared as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_bits))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_bits))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// Go's `net.ParseCIDR` syntax (host bits may be set; they are ignored), or a bare address.
    fn from_str(text: &str) -> Result<Cidr, CidrError> {
        let invalid = || CidrError(text.to_string());
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = IpAddr::from_str(address)
            .map_err(|_| invalid())?
            .to_canonical();
        let max_bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix_bits = match prefix {
            // Go accepts only decimal digits here: no sign, no spaces.
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse::<u8>().map_err(|_| invalid())?
            }
            Some(_) => return Err(invalid()),
            None => max_bits,
        };
        if prefix_bits > max_bits {
            return Err(invalid());
        }
        Ok(Cidr {
            network,
            prefix_bits,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_bits)
    }
}

/// Where a user may connect from: if `allow` is non-empty the address must be in one of
/// its blocks, and it must be in none of `deny` (deny wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceNetworks {
    /// Blocks the client address must be in (empty: any address).
    pub allow: Vec<Cidr>,
    /// Blocks the client address must not be in.
    pub deny: Vec<Cidr>,
}

impl SourceNetworks {
    /// Whether no restriction is configured.
    pub fn is_unrestricted(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// Whether a client at `ip` may connect. With any restriction configured, a client whose
    /// address is unknown is refused, as nats-server's `validateSrc` refuses an empty host.
    pub fn permits(&self, ip: Option<IpAddr>) -> bool {
        if self.is_unrestricted() {
            return true;
        }
        let Some(ip) = ip else {
            return false;
        };
        let allowed = self.allow.is_empty() || self.allow.iter().any(|cidr| cidr.contains(ip));
        allowed && !self.deny.iter().any(|cidr| cidr.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cidr: &str, cases: &[(&str, bool)]) {
        let block: Cidr = cidr.parse().unwrap();
        for &(ip, inside) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(block.contains(ip), inside, "{cidr} contains {ip}");
        }
    }

    #[test]
    fn blocks_contain_their_addresses() {
        check(
            "127.0.0.1/32",
            &[("127.0.0.1", true), ("127.0.0.2", false), ("::1", false)],
        );
        check("127.0.0.1", &[("127.0.0.1", true), ("127.0.0.2", false)]);
        check("10.1.2.3/8", &[("10.255.0.1", true), ("11.0.0.1", false)]);
        check("0.0.0.0/0", &[("192.168.1.1", true), ("::1", false)]);
        check(
            "2001:db8::/32",
            &[("2001:db8:1::5", true), ("2001:db9::1", false)],
        );
        check("::/0", &[("::1", true), ("fe80::1", true)]);
        check(
            "192.168.0.0/16",
            &[("::ffff:192.168.4.4", true), ("::ffff:10.0.0.1", false)],
        );
    }

    #[test]
    fn malformed_blocks_are_errors() {
        for text in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/8/8",
            " 10.0.0.0/8",
        ] {
            assert!(text.parse::<Cidr>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn deny_wins_and_unknown_address_is_refused() {
        let networks = SourceNetworks {
            allow: vec!["127.0.0.0/8".parse().unwrap()],
            deny: vec!["127.0.0.2".parse().unwrap()],
        };
        let at = |ip: &str| Some(ip.parse::<IpAddr>().unwrap());
        assert!(networks.permits(at("127.0.0.1")));
        assert!(!networks.permits(at("127.0.0.2")));
        assert!(!networks.permits(at("10.0.0.1")));
        assert!(!networks.permits(None));
        assert!(SourceNetworks::default().permits(None));
    }
}
