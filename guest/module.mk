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
