# The default guest image (guest/build-image.sh): kernel + initramfs built
# from Debian packages into $(B)/guest/. `make image` builds it; the kernel
# package is cached in $(B)/guest/cache/, so rebuilds take about a second.
# xmfront goes in when it has been built ($(B)/xmfront/xmfront).
GUEST_IMAGE := $(B)/guest/initramfs.cpio.gz
GUEST_XMFRONT := $(B)/xmfront/xmfront
# the script writes the kernel files too: rebuild when one of them is gone
GUEST_FORCE := $(if $(and $(wildcard $(B)/guest/vmlinux),$(wildcard $(B)/guest/bzImage),$(wildcard $(B)/guest/kernel.version)),,guest-force)

$(GUEST_IMAGE): guest/build-image.sh guest/module.mk $(wildcard $(GUEST_XMFRONT)) $(GUEST_FORCE)
	@mkdir -p $(dir $@)
	guest/build-image.sh $(B)/guest $$([ -f $(GUEST_XMFRONT) ] && echo $(GUEST_XMFRONT))

$(B)/guest/vmlinux $(B)/guest/bzImage $(B)/guest/kernel.version: $(GUEST_IMAGE)

image: $(GUEST_IMAGE)

.PHONY: image guest-force

# The HVM guest's disk and a bootable CD (guest/build-disk.sh): `make
# disk-image`. The agent goes in as its package lays it out: installed by
# install.mk's install-guest-agent (what debian/rules packages) into
# $(B)/guest/agent-root. Rebuilt only when an input changed.
HVM_DISK := $(B)/guest/hvm-disk.img
HVM_AGENT_ROOT := $(B)/guest/agent-root

$(HVM_AGENT_ROOT)/.done: $(XMFRONT) systemd/xmfront.service.in man/xmfront.8 install.mk
	rm -rf $(HVM_AGENT_ROOT)
	$(MAKE) -s B=$(B) install-guest-agent PREFIX=/usr DESTDIR=$(CURDIR)/$(HVM_AGENT_ROOT)
	touch $@

$(HVM_DISK): guest/build-disk.sh $(GUEST_IMAGE) $(HVM_AGENT_ROOT)/.done
	guest/build-disk.sh $(B)/guest $(HVM_AGENT_ROOT)

$(B)/guest/hvm-cd.iso: $(HVM_DISK)

disk-image: $(HVM_DISK)

.PHONY: disk-image
