/**
 * The course's homework problems, as requests: they are the OpenAPI examples that Swagger UI offers under
 * "Try it out", and the README and tests use the same bodies.
 */
const sigmoidChain = (lastActivation: string) => [
  { weight: 0.25, activation: "sigmoid" },
  { weight: -0.11, activation: "sigmoid" },
  { weight: 0.78, activation: lastActivation },
];

/** Homework 1's network and data: W = [[0.3, 0.5], [-0.2, 0.4]], samples as columns, L = ‖Y - WX‖². */
export const homework1Problem = {
  network: {
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
} as const;

export const homeworkExamples = {
  homework1: {
    summary: "Linear layer, L2 loss, one step of size 0.1",
    description: "P = W·X with samples as columns, L = ‖Y - WX‖², updated W = W - 0.1·∂L/∂W",
    value: { ...homework1Problem, network: { layout: "columns", ...homework1Problem.network }, learningRate: 0.1 },
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
  explained: {
    summary: "Homework 2 with its chain rule step by step and a finite-difference check",
    description:
      "explain adds the factors of every gradient (-1/ŷ, σ'(z3), w3, …); check compares them with central differences",
    value: {
      network: { layers: sigmoidChain("sigmoid"), loss: "bce" },
      input: 0.63,
      target: 1,
      explain: true,
      check: true,
      digits: 4,
    },
  },
} as const;

/** The same problems written as math, and one as an explicit graph, for POST /v1/expressions. */
export const expressionExamples = {
  homework1: {
    summary: "Homework 1 as an expression: sse(Y, W @ X)",
    value: {
      parameters: {
        W: [
          [0.3, 0.5],
          [-0.2, 0.4],
        ],
      },
      constants: {
        X: [
          [0, 2],
          [3, 1],
        ],
        Y: [
          [0.5, 1],
          [1, -1.5],
        ],
      },
      expression: "P = W @ X\nL = sse(Y, P)",
      learningRate: 0.1,
    },
  },
  homework2: {
    summary: "Homework 2 as an expression: the sigmoid chain with bce",
    value: {
      parameters: { w1: 0.25, w2: -0.11, w3: 0.78 },
      constants: { x: 0.63, y: 1 },
      expression: "s1 = sigmoid(w1 * x); s2 = sigmoid(w2 * s1); yhat = sigmoid(w3 * s2)\nbce(y, yhat)",
    },
  },
  function: {
    summary: "A function: f = (a·b + b³)² / 2",
    value: { parameters: { a: 2, b: -1 }, expression: "f = (a*b + b^3)^2 / 2" },
  },
  neuron: {
    summary: "One neuron with a bias as an explicit graph",
    value: {
      parameters: { w: [[0.5, -0.25]], b: 0.5 },
      constants: { x: [[1], [2]], y: 1 },
      graph: {
        nodes: [
          { id: "z", op: "add", inputs: ["wx", "b"] },
          { id: "wx", op: "matmul", inputs: ["w", "x"] },
          { id: "a", op: "sigmoid", inputs: ["z"] },
          { id: "L", op: "bce", inputs: ["y", "a"] },
        ],
        output: "L",
      },
      learningRate: 0.5,
    },
  },
} as const;

/** Training problems for POST /v1/train. */
export const trainExamples = {
  adam: {
    summary: "Homework 1, three steps of Adam",
    description: "What is W after three iterations of Adam with learning rate 0.1?",
    value: { ...homework1Problem, steps: 3, optimizer: { type: "adam", lr: 0.1 } },
  },
  sgdMomentum: {
    summary: "A function minimized by SGD with momentum",
    value: {
      parameters: { a: 2, b: -1 },
      expression: "(a - 1)^2 + (b + 2)^2",
      steps: 5,
      optimizer: { type: "sgd", lr: 0.1, momentum: 0.9 },
    },
  },
} as const;

/** A grading request for POST /v1/grade: homework 1 with one of the classic slips in each submission. */
export const gradeExamples = {
  homework1: {
    summary: "Homework 1: a correct submission and one with slips",
    value: {
      problem: homeworkExamples.homework1.value,
      submissions: [
        {
          loss: 3.3,
          gradients: {
            layer1: {
              weight: [
                [0.4, 6.2],
                [6, 4.2],
              ],
            },
          },
          updatedNetwork: {
            layers: [
              {
                weight: [
                  [0.26, -0.12],
                  [-0.8, -0.02],
                ],
              },
            ],
          },
        },
        {
          loss: 3.3,
          gradients: {
            layer1: {
              weight: [
                [0.4, 6.2],
                [6, 4.3],
              ],
            },
          },
          updatedNetwork: {
            layers: [
              {
                weight: [
                  [0.34, 1.12],
                  [0.4, 0.82],
                ],
              },
            ],
          },
        },
      ],
    },
  },
} as const;
