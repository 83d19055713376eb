#!/bin/sh
# tests/lab/make-debs.sh OUTDIR - builds the broken-package corpus: small
# Architecture: all packages, each harmful in one known way, for the lab's
# patch tests. Needs only dpkg-deb; no root, no network.
#
#   pl-good             harmless: /usr/share/doc/pl-good/README
#   pl-needs-good       Depends: pl-good (>= 1.0), otherwise harmless
#   pl-broken-unit      enables pl-broken.service (ExecStart=/bin/false), so
#                       the booted system is "degraded" with one failed unit
#   pl-broken-postinst  postinst exits 1: dpkg leaves it half-configured
#   pl-broken-sshd      an sshd_config.d snippet sshd -t rejects: ssh.service
#                       fails to start
#   pl-unbootable       /sbin/init -> false: PID 1 exits, the kernel panics
#   pl-missing-mount    an fstab line (no nofail) for a UUID that exists
#                       nowhere: boot waits for the device (90 s by default),
#                       then local-fs.target fails and the guest lands in
#                       emergency mode; multi-user is never reached
#
# Every maintainer script only touches files (offline installs: no running
# systemd). The builds are reproducible (SOURCE_DATE_EPOCH, fixed mtimes) and
# a .deb in OUTDIR is only replaced when its bytes change, so running this
# again is cheap and leaves OUTDIR as it was.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
command -v dpkg-deb >/dev/null 2>&1 || { echo "$0: dpkg-deb not found" >&2; exit 1; }
mkdir -p "$out"

export SOURCE_DATE_EPOCH=1700000000
export LC_ALL=C
umask 022
work=$(mktemp -d "${TMPDIR:-/tmp}/pl-debs.XXXXXX")
trap 'rm -rf "$work"' EXIT

MAINT='patchlab test corpus <tests@patchlab.invalid>'

# control NAME DEPENDS SHORT LONG...: writes $work/NAME/DEBIAN/control.
control() {
	name=$1 depends=$2 short=$3
	shift 3
	mkdir -p "$work/$name/DEBIAN"
	{
		echo "Package: $name"
		echo "Version: 1.0"
		echo "Architecture: all"
		echo "Maintainer: $MAINT"
		echo "Section: misc"
		echo "Priority: optional"
		[ -z "$depends" ] || echo "Depends: $depends"
		echo "Description: $short"
		for l in "$@"; do
			if [ -z "$l" ]; then echo " ."; else echo " $l"; fi
		done
	} >"$work/$name/DEBIAN/control"
}

# put NAME PATH MODE: stdin becomes PATH inside package NAME.
put() {
	mkdir -p "$work/$1$(dirname "$2")"
	cat >"$work/$1$2"
	chmod "$3" "$work/$1$2"
}

# script NAME postinst|prerm|postrm|preinst: stdin becomes that script.
script() {
	put "$1" "/DEBIAN/$2" 0755
}

# build NAME: $out/NAME_1.0_all.deb, replaced only when it differs.
build() {
	root=$work/$1
	deb=$out/${1}_1.0_all.deb
	(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort |
		while IFS= read -r f; do
			grep -qxF "/$f" DEBIAN/conffiles 2>/dev/null || md5sum "$f"
		done) >"$root/DEBIAN/md5sums"
	[ -s "$root/DEBIAN/md5sums" ] || rm -f "$root/DEBIAN/md5sums"
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	dpkg-deb --root-owner-group -Zxz --build "$root" "$work/$1.deb" >/dev/null
	if cmp -s "$work/$1.deb" "$deb"; then
		rm -f "$work/$1.deb"
	else
		mv -f "$work/$1.deb" "$deb"
	fi
	echo "$deb"
}

# --- pl-good ----------------------------------------------------------------
control pl-good "" "patchlab test package that does nothing harmful" \
	"Installs one README and nothing else. The patch lab's control case:" \
	"installing it must leave a booting, healthy system."
put pl-good /usr/share/doc/pl-good/README 0644 <<'EOF'
pl-good: a harmless package from patchlab's test corpus (tests/lab/make-debs.sh).
EOF
build pl-good

# --- pl-needs-good ----------------------------------------------------------
control pl-needs-good "pl-good (>= 1.0)" "patchlab test package that depends on pl-good" \
	"Harmless, but Depends: pl-good (>= 1.0), so installing it alone tests" \
	"that dependencies are satisfied from within the candidate set."
put pl-needs-good /usr/share/doc/pl-needs-good/README 0644 <<'EOF'
pl-needs-good: depends on pl-good (>= 1.0); from patchlab's test corpus.
EOF
build pl-needs-good

# --- pl-broken-unit ---------------------------------------------------------
control pl-broken-unit "" "patchlab test package whose systemd unit always fails" \
	"Ships and enables pl-broken.service (Type=oneshot, ExecStart=/bin/false)." \
	"The postinst enables it by creating the multi-user.target.wants symlink" \
	"itself, so it works offline; after boot the unit is failed and the" \
	"system degraded."
put pl-broken-unit /lib/systemd/system/pl-broken.service 0644 <<'EOF'
[Unit]
Description=patchlab test unit that always fails (pl-broken-unit)

[Service]
Type=oneshot
ExecStart=/bin/false

[Install]
WantedBy=multi-user.target
EOF
script pl-broken-unit postinst <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	mkdir -p /etc/systemd/system/multi-user.target.wants
	ln -sf /lib/systemd/system/pl-broken.service \
		/etc/systemd/system/multi-user.target.wants/pl-broken.service
fi
exit 0
EOF
script pl-broken-unit prerm <<'EOF'
#!/bin/sh
set -e
if [ "$1" = remove ]; then
	rm -f /etc/systemd/system/multi-user.target.wants/pl-broken.service
fi
exit 0
EOF
script pl-broken-unit postrm <<'EOF'
#!/bin/sh
set -e
case "$1" in
remove | purge | abort-install)
	rm -f /etc/systemd/system/multi-user.target.wants/pl-broken.service
	;;
esac
exit 0
EOF
build pl-broken-unit

# --- pl-broken-postinst -----------------------------------------------------
control pl-broken-postinst "" "patchlab test package whose postinst fails" \
	"The postinst prints an error and exits 1, so dpkg leaves the package" \
	"half-configured and reports the failure (dpkg exit status 1)."
put pl-broken-postinst /usr/share/doc/pl-broken-postinst/README 0644 <<'EOF'
pl-broken-postinst: its postinst fails on purpose; from patchlab's test corpus.
EOF
script pl-broken-postinst postinst <<'EOF'
#!/bin/sh
set -e
echo "pl-broken-postinst: configuration failed on purpose" >&2
exit 1
EOF
build pl-broken-postinst

# --- pl-broken-sshd ---------------------------------------------------------
control pl-broken-sshd "openssh-server" "patchlab test package that breaks sshd's configuration" \
	"Ships /etc/ssh/sshd_config.d/zz-patchlab-broken.conf with a directive" \
	"sshd does not know, so 'sshd -t' fails and ssh.service cannot start."
mkdir -p "$work/pl-broken-sshd/DEBIAN"
echo /etc/ssh/sshd_config.d/zz-patchlab-broken.conf >"$work/pl-broken-sshd/DEBIAN/conffiles"
put pl-broken-sshd /etc/ssh/sshd_config.d/zz-patchlab-broken.conf 0644 <<'EOF'
# pl-broken-sshd (patchlab test corpus): sshd rejects the next line on purpose.
PatchlabBrokenDirective yes
EOF
build pl-broken-sshd

# --- pl-unbootable ----------------------------------------------------------
# /sbin/init must point at false *inside the guest's root*: the initramfs
# tests and execs ${rootmnt}/sbin/init, where an absolute link target
# (/bin/false) would resolve against the initramfs, fail its -x test and make
# it fall back to /bin/sh. The relative "../bin/false" resolves to
# /usr/bin/false in merged /usr (/sbin -> usr/sbin, so the link lives in
# /usr/sbin) and to /bin/false without it: PID 1 exits, the kernel panics.
control pl-unbootable "" "patchlab test package that makes the system unbootable" \
	"The postinst points /sbin/init at false, so PID 1 exits at once and" \
	"the kernel panics ('Attempted to kill init'); userspace never comes" \
	"up. Removing the package restores the previous /sbin/init."
put pl-unbootable /usr/share/doc/pl-unbootable/README 0644 <<'EOF'
pl-unbootable: its postinst points /sbin/init at false; from patchlab's test corpus.
EOF
script pl-unbootable postinst <<'EOF'
#!/bin/sh
set -e
saved=/var/lib/pl-unbootable
if [ "$1" = configure ]; then
	# remember what /sbin/init was (once), for postrm
	if [ ! -e "$saved/saved" ]; then
		mkdir -p "$saved"
		if [ -L /sbin/init ]; then
			readlink /sbin/init >"$saved/init.link"
		elif [ -e /sbin/init ]; then
			cp -p /sbin/init "$saved/init.orig"
		fi
		: >"$saved/saved"
	fi
	# relative, so that it resolves inside the root (see make-debs.sh)
	ln -sfn ../bin/false /sbin/init
fi
exit 0
EOF
script pl-unbootable postrm <<'EOF'
#!/bin/sh
set -e
saved=/var/lib/pl-unbootable
case "$1" in
remove | purge | abort-install)
	if [ -e "$saved/saved" ]; then
		if [ -s "$saved/init.link" ]; then
			ln -sfn "$(cat "$saved/init.link")" /sbin/init
		elif [ -e "$saved/init.orig" ]; then
			cp -p "$saved/init.orig" /sbin/init.pl-unbootable
			mv -f /sbin/init.pl-unbootable /sbin/init
		elif [ "$(readlink /sbin/init)" = ../bin/false ]; then
			rm -f /sbin/init
		fi
		rm -rf "$saved"
	fi
	;;
esac
exit 0
EOF
build pl-unbootable

# --- pl-missing-mount -------------------------------------------------------
control pl-missing-mount "" "patchlab test package that adds an unmountable fstab entry" \
	"The postinst appends to /etc/fstab a mount of a filesystem UUID that" \
	"exists nowhere, without nofail, so boot waits for the device, fails" \
	"local-fs.target and ends in emergency mode. Removal deletes the line."
put pl-missing-mount /usr/share/doc/pl-missing-mount/README 0644 <<'EOF'
pl-missing-mount: its postinst adds a mount of a missing UUID to /etc/fstab; from patchlab's test corpus.
EOF
script pl-missing-mount postinst <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	mkdir -p /srv/patchlab-data
	if ! grep -q '^UUID=0badc0de-0000-4000-8000-00000000dead[[:space:]]' /etc/fstab 2>/dev/null; then
		# keep the file's last line intact if it lacks its newline
		if [ -s /etc/fstab ] && [ "$(tail -c 1 /etc/fstab | od -An -c | tr -d ' ')" != '\n' ]; then
			echo >>/etc/fstab
		fi
		echo 'UUID=0badc0de-0000-4000-8000-00000000dead /srv/patchlab-data ext4 defaults 0 2' >>/etc/fstab
	fi
fi
exit 0
EOF
script pl-missing-mount postrm <<'EOF'
#!/bin/sh
set -e
case "$1" in
remove | purge | abort-install)
	if [ -f /etc/fstab ]; then
		sed -i '/^UUID=0badc0de-0000-4000-8000-00000000dead[[:space:]]/d' /etc/fstab
	fi
	rmdir /srv/patchlab-data 2>/dev/null || true
	;;
esac
exit 0
EOF
build pl-missing-mount
