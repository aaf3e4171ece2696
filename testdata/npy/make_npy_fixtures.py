"""Writes small .npy files with numpy in the dtypes and layouts itscope
reads, each beside NAME.txt: its shape on the first line, then its values
in C order, one per line, as numpy prints them (float64 repr).

Run with /usr/bin/python3 from testdata/npy/.
"""
import numpy as np

rng = np.random.default_rng(414)
arrays = {
    "f4_3x4": rng.standard_normal((3, 4)).astype("<f4"),
    "f8_2x3x2": rng.standard_normal((2, 3, 2)).astype("<f8") * 1e30,
    "f8_fortran_3x2": np.asfortranarray(rng.standard_normal((3, 2))),
    "i4_fortran_2x3": np.asfortranarray(np.arange(-3, 3, dtype="<i4").reshape(2, 3)),
    "u1_2x2x3": rng.integers(0, 256, (2, 2, 3)).astype("|u1"),
    "i1_5": np.array([-128, -1, 0, 1, 127], dtype="|i1"),
    "i2_4": np.array([-32768, -2, 3, 32767], dtype="<i2"),
    "u2_3": np.array([0, 1, 65535], dtype="<u2"),
    "u4_2": np.array([0, 4294967295], dtype="<u4"),
    "i8_3": np.array([-(2**40), 0, 2**40], dtype="<i8"),
    "u8_2": np.array([0, 2**63], dtype="<u8"),
    "f4_0x5": np.zeros((0, 5), dtype="<f4"),
    "f4_scalar": np.array(2.5, dtype="<f4"),
}
for name, a in arrays.items():
    np.save(name + ".npy", a)
    with open(name + ".txt", "w") as f:
        f.write(" ".join(str(d) for d in a.shape) + "\n")
        for v in np.ascontiguousarray(a).ravel():
            f.write(repr(float(v)) + "\n")
# A version 2.0 header, as numpy writes for very wide structured dtypes.
with open("f4_v2_2x2.npy", "wb") as f:
    a = np.array([[1, 2], [3, 4]], dtype="<f4")
    np.lib.format.write_array(f, a, version=(2, 0))
with open("f4_v2_2x2.txt", "w") as f:
    f.write("2 2\n1.0\n2.0\n3.0\n4.0\n")
