# SPDX-License-Identifier: GPL-2.0
#
# A private apt state for packages of newer Debian suites, so that nothing on
# the system is upgraded and no suite is added to its apt configuration.
# Sourced by setup-toolchain.sh and the Debian kernel test bed; the caller
# defines die() and say().
#
#   private_apt_init DIR SUITE...   lists of SUITE... in DIR (apt-get update)
#   newest_version PKG REGEX        newest version of PKG matching ^REGEX
#   fetch_deb PKG VERSION DEST      download PKG=VERSION, unpack it into DEST
#   download_debs DEST PKG=VER...   download the .deb files into DEST

# The Debian mirror of the machine's own apt configuration: the site that
# serves the machine's release (os-release VERSION_CODENAME), else the first
# site labelled Debian.  Never a host name of our own.
debian_mirror() {
	local codename uri
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	uri=$(apt-get indextargets --format '$(SITE) $(RELEASE) $(LABEL)' 2>/dev/null |
	      awk -v c="$codename" '!u && $2 == c && $3 == "Debian" {u = $1} END {print u}')
	[ -n "$uri" ] || uri=$(apt-get indextargets --format '$(SITE) $(LABEL)' 2>/dev/null |
	      awk '!u && $2 == "Debian" {u = $1} END {print u}')
	[ -n "$uri" ] ||
		die "the machine's apt configuration names no Debian mirror (apt-get indextargets lists none); add the Debian archive to /etc/apt/sources.list.d and run apt-get update"
	echo "$uri"
}

private_apt_init() {
	APTDIR=$1
	shift
	APT_O=(-o "Dir::Etc::sourcelist=$APTDIR/sources.list" -o "Dir::Etc::sourceparts=-"
	       -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
	       -o "Dir::State::status=$APTDIR/status" -o "APT::Get::List-Cleanup=0"
	       -o "APT::Sandbox::User=root")
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
	: > "$APTDIR/status"
	local uri suite
	uri=$(debian_mirror)
	: > "$APTDIR/sources.list"
	for suite in "$@"; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" >> "$APTDIR/sources.list"
	done
	say "reading package lists of $* (private apt state)"
	apt-get "${APT_O[@]}" update -qq || die "apt-get update of the private apt state failed"
}

newest_version() {
	apt-cache "${APT_O[@]}" madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
		grep -E "^$2" | sort -V | tail -n1
}

fetch_deb() {
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get "${APT_O[@]}" download -qq "$1=$2") || die "cannot download $1=$2"
	mkdir -p "$3"
	dpkg-deb -x "$tmp"/*.deb "$3"
	rm -rf "$tmp"
}

download_debs() {
	local dest=$1
	shift
	mkdir -p "$dest"
	(cd "$dest" && apt-get "${APT_O[@]}" download -qq "$@") || die "cannot download $*"
}
