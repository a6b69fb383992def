/**
 * The course's homework problems, as requests: they are the OpenAPI examples that Swagger UI offers under
 * "Try it out", and the README and tests use the same bodies.
 */
const sigmoidChain = (lastActivation: string) => [
  { weight: 0.25, activation: "sigmoid" },
  { weight: -0.11, activation: "sigmoid" },
  { weight: 0.78, activation: lastActivation },
];

export const homeworkExamples = {
  homework1: {
    summary: "Linear layer, L2 loss, one step of size 0.1",
    description: "P = W·X with samples as columns, L = ‖Y - WX‖², updated W = W - 0.1·∂L/∂W",
    value: {
      network: {
        layout: "columns",
        layers: [
          {
            weight: [
              [0.3, 0.5],
              [-0.2, 0.4],
            ],
          },
        ],
        loss: "sse",
      },
      input: [
        [0, 2],
        [3, 1],
      ],
      target: [
        [0.5, 1],
        [1, -1.5],
      ],
      learningRate: 0.1,
    },
  },
  homework2: {
    summary: "Three sigmoid layers, binary cross-entropy",
    description: "ŷ = σ(w3·σ(w2·σ(w1·x))) with x = 0.63, y = 1: watch the gradient shrink toward w1",
    value: {
      network: { layers: sigmoidChain("sigmoid"), loss: "bce" },
      input: 0.63,
      target: 1,
      learningRate: 0.1,
    },
  },
  homework3: {
    summary: "The same chain as regression (no last sigmoid), L2 loss",
    description: "ŷ = w3·σ(w2·σ(w1·x)), L = (y - ŷ)² with y = 128: a large target gives large gradients",
    value: {
      network: { layers: sigmoidChain("identity"), loss: "sse" },
      input: 0.63,
      target: 128,
      learningRate: 0.1,
    },
  },
} as const;
