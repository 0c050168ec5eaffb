//! What the locate bench and the `analysis_dump` example share: the seeded generator and the
//! filler clauses of their synthetic reports.

/// xorshift64*: seeded, the same texts on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// Clauses between the places and names of a synthetic report.
pub const FILLER: &[&str] = &[
    "来电人反映，",
    "有一家培训学校没有实操场地，",
    "讲课老师没有特种作业操作证，",
    "考试时监考人员离开考场，",
    "收费明显高于市场价格，",
    "企业安全培训记录都是事后补签的，",
    "要求相关部门尽快核实处理。",
    "我同事刘东方也在那里报名，",
    "交通化工类企业问题较多，",
    "老板说证正在办让先干着，",
    "诉求：请相关部门依法查处。",
    "那边的考点实操考试走过场，",
];
