# Appended to the sample's install.sh by tests/cli/isolation.rs (after the product is up):
# a package that fills its server's directory with real data, 250 MB at a time (each
# file under the sandbox's per-file limit), towards 5 GB.
set +e
i=0
while [ $i -lt 20 ]; do
    head -c 250000000 /dev/zero > "fill-$i.bin" || echo "fill $i: stopped"
    i=$((i + 1))
done
echo "disk: wrote everything"
exit 0
