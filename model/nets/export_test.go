package nets

// NewTinyResNet is a ResNet with one block per stage, 4 channels wide, on
// 32x32 images, its weights drawn from seed: small enough for the feature
// cache tests, which run as package nets_test.
func NewTinyResNet(seed uint64) (Network, error) {
	return NewResNet("tiny", ResNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 32}, seed, "")
}
