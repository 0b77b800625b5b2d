"""Object detectors: one interface (``base``), LiteRT's SSD MobileNet v2 COCO (``litert``), ONNX
Runtime for a city's own model (``onnx``), one detector shared by a node's cameras
(``shared``), and a detector built from options (``factory``)."""
