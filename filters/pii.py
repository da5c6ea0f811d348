"""PII scrubbing as FineWeb does it (datatrove `pipeline/formatters/pii.py`, `PIIFormatter`, run on
FineWeb's kept pages): e-mail addresses and public IP addresses are replaced by placeholders;
the page is rewritten, never dropped.

- e-mail: local part "@" (or "%40") a dotted domain ending in a TLD of 2+ letters, anywhere in
  the text (so in URLs too: `mailto:`, `?email=`); an apostrophe inside the local part belongs to
  it (`o'brien@…`, as datatrove's RFC 5322 character class has it). Documentation domains (RFC 2606: example.com/.net/.org
  and the .example/.test/.invalid/.localhost TLDs) are left alone, so a placeholder is never
  scrubbed again; datatrove replaces those too.
- IPv4 (datatrove: `only_remove_public_ips=True`) and IPv6 (not in datatrove): a candidate is
  replaced only when `ipaddress` calls it global, so private ranges (10/8, 192.168/16, fc00::/7),
  loopback, link-local and the documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24,
  2001:db8::/32) stay, as do version numbers (1.2.3.4.5 is no address: dots or digits around
  the four numbers rule a candidate out).
- placeholders: datatrove's (`email_replacement`, `ip_replacement`), used in turn; the turn starts
  afresh on every page so the output does not depend on the order pages arrive in (datatrove's
  counter runs on across pages). IPv6 placeholders are documentation addresses.
`PIIScrubber(...).scrub(text)` → (text, {"email": n, "ipv4": n, "ipv6": n}).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Dict, Sequence, Tuple

KINDS = ("email", "ipv4", "ipv6")

# The local part as addresses are written in practice (RFC 5322 also allows "/", "?", "=", "&",
# which would swallow a URL's path and query): letters, digits, "_", "+", "-" and, inside a part,
# an apostrophe ("o'brien@irishtimes.ie" whole, as datatrove's pattern takes it; a quote before
# an address is not part of it); "%40" is "@" URL-encoded.
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9_+-][A-Za-z0-9_+'-]*(?:\.[A-Za-z0-9_+-][A-Za-z0-9_+'-]*)*"
    r"(?:@|%40)((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,})\b"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\d.])(?:{_OCTET}\.){{3}}{_OCTET}(?!\d|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_DOC_DOMAINS = ("example.com", "example.net", "example.org")
_DOC_TLDS = ("example", "test", "invalid", "localhost")


def documentation_domain(domain: str) -> bool:
    domain = domain.lower()
    return (domain.rsplit(".", 1)[-1] in _DOC_TLDS
            or any(domain == d or domain.endswith("." + d) for d in _DOC_DOMAINS))


def public_ip(candidate: str) -> bool:
    try:
        return ipaddress.ip_address(candidate).is_global
    except ValueError:
        return False


def ipv6_candidate(candidate: str) -> bool:
    """A public IPv6 address written as one: 3+ colons and a digit, so C++ names ("a::b") and
    clock times stay even where they parse."""
    return candidate.count(":") >= 3 and any(ch.isdigit() for ch in candidate) and public_ip(candidate)


class PIIScrubber:
    def __init__(
        self,
        emails: bool = True,
        ips: bool = True,
        email_placeholders: Sequence[str] = ("email@example.com", "firstname.lastname@example.org"),
        ipv4_placeholders: Sequence[str] = ("22.214.171.124", "126.96.36.199", "188.8.131.52",
                                            "184.108.40.206", "220.127.116.11", "18.104.22.168"),
        ipv6_placeholders: Sequence[str] = ("2001:db8::1", "2001:db8::2"),
    ):
        self.emails = emails
        self.ips = ips
        self.placeholders = {"email": tuple(email_placeholders), "ipv4": tuple(ipv4_placeholders),
                             "ipv6": tuple(ipv6_placeholders)}
        for kind, values in self.placeholders.items():
            if not values:
                raise ValueError(f"pii: {kind}_placeholders is empty; give at least one")

    @classmethod
    def from_config(cls, cfg: dict) -> "PIIScrubber":
        return cls(**{k: v for k, v in cfg.items() if k not in ("enabled", "sources") and not k.startswith("_")})

    def _replace(self, pattern, text: str, kind: str, keep, counts: Dict[str, int]) -> str:
        values = self.placeholders[kind]

        def sub(match):
            if keep(match):
                return match.group(0)
            n = counts[kind]
            counts[kind] = n + 1
            return values[n % len(values)]

        return pattern.sub(sub, text)

    def scrub(self, text: str) -> Tuple[str, Dict[str, int]]:
        counts = dict.fromkeys(KINDS, 0)
        if self.emails and ("@" in text or "%40" in text):
            text = self._replace(_EMAIL, text, "email", lambda m: documentation_domain(m.group(1)), counts)
        if self.ips:
            if "." in text:
                text = self._replace(_IPV4, text, "ipv4", lambda m: not public_ip(m.group(0)), counts)
            if "::" in text or text.count(":") >= 7:
                text = self._replace(_IPV6, text, "ipv6", lambda m: not ipv6_candidate(m.group(0)), counts)
        return text, counts
