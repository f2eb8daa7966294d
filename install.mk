# make install / uninstall: the host's programs, man pages, units, the
# default guest image and the example config, in the places Debian and Xen
# use (xl, xenstored: sbin; the guest kernel is arch-dependent: lib).
# PREFIX, DESTDIR and the directories below can be set on the command line,
# as with any GNU-style install; debian/rules
# installs with PREFIX=/usr. The example guest goes to /etc/xen (XENCONFDIR)
# whatever the PREFIX: xm create NAME looks there.
#
#   make install                    build (release) and install under /usr/local
#   make install-guest-agent        the static guest agent alone, with its
#                                   unit (for a guest)
#   make uninstall                  remove what install put there

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
GUESTDIR ?= $(PREFIX)/lib/xm
DOCDIR ?= $(PREFIX)/share/doc/xm
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
XENCONFDIR ?= /etc/xen
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
INSTALL ?= install

HOST_PROGS := $(XM) $(XMSTORED) $(XMBACKD)
GUEST_FILES := vmlinux bzImage initramfs.cpio.gz kernel.version

install: programs image
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(GUESTDIR) $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(XENCONFDIR)
	$(INSTALL) -m 755 $(HOST_PROGS) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 644 man/xm.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 man/xm.cfg.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 completion/xm $(DESTDIR)$(BASHCOMPDIR)/xm
	$(INSTALL) -m 644 man/xmstored.8 man/xmbackd.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 $(addprefix $(B)/guest/,$(GUEST_FILES)) $(DESTDIR)$(GUESTDIR)/
	sed 's|\.\./build/release/guest|$(GUESTDIR)|' examples/XenGuest1.cfg \
		> $(DESTDIR)$(DOCDIR)/examples/XenGuest1.cfg
	# xm create XenGuest1 finds it there, as xm found its configs
	cp $(DESTDIR)$(DOCDIR)/examples/XenGuest1.cfg $(DESTDIR)$(XENCONFDIR)/XenGuest1.cfg
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/xmstored.service.in \
		> $(DESTDIR)$(UNITDIR)/xmstored.service
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/xmbackd.service.in \
		> $(DESTDIR)$(UNITDIR)/xmbackd.service

install-guest-agent: $(XMFRONT)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 755 $(XMFRONT) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 644 man/xmfront.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/xmfront.service.in \
		> $(DESTDIR)$(UNITDIR)/xmfront.service

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,xm xmstored xmbackd xmfront)
	rm -f $(DESTDIR)$(MANDIR)/man1/xm.1 $(DESTDIR)$(MANDIR)/man5/xm.cfg.5 \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,xmstored.8 xmbackd.8 xmfront.8)
	rm -f $(addprefix $(DESTDIR)$(GUESTDIR)/,$(GUEST_FILES))
	rm -f $(DESTDIR)$(DOCDIR)/examples/XenGuest1.cfg
	rm -f $(DESTDIR)$(BASHCOMPDIR)/xm
	rm -f $(DESTDIR)$(XENCONFDIR)/XenGuest1.cfg
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,xmstored.service xmbackd.service xmfront.service)
	-rmdir $(DESTDIR)$(GUESTDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

.PHONY: install install-guest-agent uninstall
