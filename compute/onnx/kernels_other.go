//go:build !amd64 || purego

package onnx

// supportedKernels lists the paths this build runs, fastest first.
var supportedKernels = []*int8Kernels{goKernels}

// vnniSupported: no VNNI kernels in this build, so weights are packed for
// the pair kernels only.
const vnniSupported = false

func qgemmVNNI(w *int32, x *uint8, xstride, kq, nblk int, out *uint8, ldo int, post *requant8) {
	panic("unreachable")
}

func packQuads(dst *uint8, src *uint8, plane, dstStride, nquads, npx, ngroups int) {
	panic("unreachable")
}

func dw3x3VNNI(out *uint8, in *uint8, a *dwArgs) { panic("unreachable") }

func copyRows(dst *uint8, src *uint8, w, h, dstStride int) { panic("unreachable") }

func qgemvVNNI(w *int32, a *uint8, kq int, out *uint8, post *requant16) { panic("unreachable") }
