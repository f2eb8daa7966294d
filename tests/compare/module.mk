# tests/compare: xscompare, the side-by-side replay of request sequences
# against two XenStore daemons (xmstored and Xen's cxenstored); run by
# tests/proto/compare.sh. Needs only the wire framing of libxm.
XSCOMPARE := $(B)/tests/compare/xscompare
$(XSCOMPARE): $(B)/tests/compare/xscompare.o $(LIBXM)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
TESTPROGS += $(XSCOMPARE)
